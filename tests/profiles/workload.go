// A known workload profiled with runtime/pprof (standard library only), for the profiles
// integration test: writes <dir>/cpu.pprof (CPU profile of a busy loop in burnCPU/hashLoop) and
// <dir>/heap.pprof (heap profile of the buffers allocated by allocBuffers).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"
)

var sink uint64
var keep [][]byte

//go:noinline
func hashLoop(n int) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < n; i++ {
		h ^= uint64(i)
		h *= 1099511628211
	}
	return h
}

//go:noinline
func burnCPU(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		sink += hashLoop(100000)
	}
}

//go:noinline
func allocBuffers(n, size int) {
	for i := 0; i < n; i++ {
		keep = append(keep, make([]byte, size))
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: workload <out dir>")
		os.Exit(2)
	}
	dir := os.Args[1]
	runtime.MemProfileRate = 4096
	cpu, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		panic(err)
	}
	burnCPU(1500 * time.Millisecond)
	pprof.StopCPUProfile()
	cpu.Close()

	allocBuffers(2000, 64<<10)
	runtime.GC()
	heap, err := os.Create(filepath.Join(dir, "heap.pprof"))
	if err != nil {
		panic(err)
	}
	if err := pprof.Lookup("heap").WriteTo(heap, 0); err != nil {
		panic(err)
	}
	heap.Close()
	fmt.Println(len(keep), sink != 0)
}
