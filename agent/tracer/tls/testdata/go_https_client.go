// A Go program with crypto/tls: makes N HTTPS GET requests to a URL (certificate not verified:
// tests use throwaway self-signed servers), prints how many got a response, then stays alive for
// the given seconds so a tracer can find it. Usage: go_https_client URL N LINGER_SECONDS
package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: go_https_client URL N LINGER_SECONDS")
		os.Exit(2)
	}
	n, _ := strconv.Atoi(os.Args[2])
	linger, _ := strconv.Atoi(os.Args[3])
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
