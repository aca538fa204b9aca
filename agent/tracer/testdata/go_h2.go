// HTTP/2 peers from Go's standard library, for the HTTP/2 tracing test.
//
//	go_h2 server ADDR [CERT KEY]   h2c (cleartext HTTP/2) without CERT, HTTP/2 over TLS with it;
//	                               /ok answers 200, anything else 404
//	go_h2 client BASE_URL N_OK N_MISSING START_DELAY
//	                               one plain TCP connection first (a tracer learns of the process
//	                               by its connections), then after START_DELAY seconds N_OK GET /ok
//	                               and N_MISSING GET /missing over one HTTP/2 connection; prints
//	                               "done <ok> <missing> <proto>"
package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: go_h2 server ADDR [CERT KEY] | go_h2 client BASE_URL N_OK N_MISSING START_DELAY")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "server":
		serve(os.Args[2], os.Args[3:])
	case "client":
		client(os.Args[2:])
	}
}

func serve(addr string, tlsFiles []string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	srv := &http.Server{Addr: addr, Handler: mux, Protocols: new(http.Protocols)}
	var err error
	if len(tlsFiles) == 2 {
		srv.Protocols.SetHTTP2(true)
		err = srv.ListenAndServeTLS(tlsFiles[0], tlsFiles[1])
	} else {
		srv.Protocols.SetUnencryptedHTTP2(true)
		err = srv.ListenAndServe()
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func client(args []string) {
	base, _ := url.Parse(args[0])
	nOK, _ := strconv.Atoi(args[1])
	nMissing, _ := strconv.Atoi(args[2])
	delay, _ := strconv.ParseFloat(args[3], 64)
	if c, err := net.Dial("tcp", base.Host); err == nil {
		c.Close()
	}
	time.Sleep(time.Duration(delay * float64(time.Second)))
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, Protocols: new(http.Protocols)}
	if base.Scheme == "https" {
		tr.Protocols.SetHTTP2(true)
	} else {
		tr.Protocols.SetUnencryptedHTTP2(true)
	}
	cl := &http.Client{Transport: tr}
	ok, missing, proto := 0, 0, ""
	get := func(path string) {
		resp, err := cl.Get(args[0] + path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		proto = resp.Proto
		if resp.StatusCode == 200 {
			ok++
		} else if resp.StatusCode == 404 {
			missing++
		}
	}
	for i := 0; i < nOK; i++ {
		get("/ok")
	}
	for i := 0; i < nMissing; i++ {
		get("/missing")
	}
	fmt.Println("done", ok, missing, proto)
}
