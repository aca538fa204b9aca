// A Go program with crypto/tls: opens and closes one plain TCP connection to the URL's host (a
// tracer learns of the process by its connections), waits START_DELAY seconds (for the tracer to
// attach its probes), makes N HTTPS GET requests to a URL over one keep-alive connection (certificate not verified:
// tests use throwaway self-signed servers), prints how many got a response, then stays alive for
// LINGER seconds. Usage: go_https_client URL N START_DELAY LINGER
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
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: go_https_client URL N START_DELAY LINGER")
		os.Exit(2)
	}
	n, _ := strconv.Atoi(os.Args[2])
	start, _ := strconv.ParseFloat(os.Args[3], 64)
	linger, _ := strconv.Atoi(os.Args[4])
	u, err := url.Parse(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if c, err := net.Dial("tcp", u.Host); err == nil {
		c.Close()
	}
	fmt.Println("started")
	time.Sleep(time.Duration(start * float64(time.Second)))
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2: false,
		TLSNextProto:      map[string]func(string, *tls.Conn) http.RoundTripper{}, // HTTP/1.1 only
	}}
	ok := 0
	for i := 0; i < n; i++ {
		resp, err := client.Get(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ok++
	}
	fmt.Println("responses:", ok)
	time.Sleep(time.Duration(linger) * time.Second)
}
