// A peer for the benchmark: Go's net/http doing the work printerfacts does for GET /fact (see
// scripts/bench/ceiling.ts): the same body and headers from WORK_FILE, the caller's request id if
// short and plain else a new UUID, one JSON access-log line per request written to stdout in
// batches (100 ms or 64 KiB), and the request counted in a latency histogram by method, route and
// status. Every path is /fact.
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math"
	mathrand "math/rand"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

type work struct {
	Headers [][2]string `json:"headers"`
	Facts   []string    `json:"facts"`
}

type answer struct {
	body    []byte
	headers http.Header
}

var buckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}

type series struct {
	counts [13]float64
	sum    float64
}

var (
	mu          sync.Mutex
	out         = bufio.NewWriterSize(os.Stdout, 64*1024)
	metrics     = map[string]map[string]map[int]*series{}
	factsServed int
)

func plainID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c == '_' || c == '-' || c == '=' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func uuid() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// jsonString is what goes between a JSON string's quotes.
func jsonString(s string) string {
	quoted, _ := json.Marshal(s)
	return string(quoted[1 : len(quoted)-1])
}

func main() {
	raw, err := os.ReadFile(os.Getenv("WORK_FILE"))
	if err != nil {
		panic(err)
	}
	var w work
	if err := json.Unmarshal(raw, &w); err != nil {
		panic(err)
	}
	answers := make([]answer, len(w.Facts))
	for i, fact := range w.Facts {
		body := []byte(fact + "\n")
		h := http.Header{}
		for _, kv := range w.Headers {
			h.Set(kv[0], kv[1]) // canonical names, or net/http adds a Content-Type of its own
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		answers[i] = answer{body, h}
	}

	go func() {
		for range time.Tick(100 * time.Millisecond) {
			mu.Lock()
			out.Flush()
			mu.Unlock()
		}
	}()

	handler := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		started := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !plainID(id) {
			id = uuid()
		}
		a := answers[mathrand.Intn(len(answers))]
		h := rw.Header()
		for k, v := range a.headers {
			h[k] = v
		}
		h["X-Request-Id"] = []string{id}
		rw.WriteHeader(200)
		rw.Write(a.body)
		duration := time.Since(started)
		seconds := duration.Seconds()
		client := "null"
		if c := r.Header.Get("X-Real-Ip"); c != "" {
			client = `"` + jsonString(c) + `"`
		} else if c := r.Header.Get("X-Forwarded-For"); c != "" {
			client = `"` + jsonString(c) + `"`
		}
		line := `{"time":"` + started.UTC().Format("2006-01-02T15:04:05.000Z") + `","method":"` + jsonString(r.Method) +
			`","path":"` + jsonString(r.URL.EscapedPath()) + `","status":200,"bytes":` + strconv.Itoa(len(a.body)) +
			`,"duration_ms":` + strconv.FormatFloat(math.Round(seconds*1e6)/1000, 'f', -1, 64) +
			`,"request_id":"` + jsonString(id) + `","client":` + client + "}\n"
		mu.Lock()
		byRoute := metrics[r.Method]
		if byRoute == nil {
			byRoute = map[string]map[int]*series{}
			metrics[r.Method] = byRoute
		}
		byStatus := byRoute["/fact"]
		if byStatus == nil {
			byStatus = map[int]*series{}
			byRoute["/fact"] = byStatus
		}
		s := byStatus[200]
		if s == nil {
			s = &series{}
			byStatus[200] = s
		}
		b := 0
		for b < len(buckets) && seconds > buckets[b] {
			b++
		}
		s.counts[b]++
		s.sum += seconds
		factsServed++
		out.WriteString(line)
		mu.Unlock()
	})

	path := os.Getenv("SOCKPATH")
	ln, err := net.Listen("unix", path)
	if err != nil {
		panic(err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		mu.Lock()
		out.Flush()
		mu.Unlock()
		os.Remove(path)
		os.Exit(0)
	}()
	http.Serve(ln, handler)
}
