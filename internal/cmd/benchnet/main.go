// Command benchnet is dhtchat's benchmark harness: it runs real DHT server
// nodes and real chat clients on 127.0.0.1 — in this process, in child
// processes, and as the real dhtchat binary — measures delivery latency,
// throughput, offline backlog, idle cost, memory, start-up and scale, and
// prints one table with each figure's median and p99, the settings used and
// whether the milestone's target is met. "make bench" runs it after the Go
// benchmarks; docs/BENCHMARKS.md records its results.
//
// Usage:
//
//	go run ./internal/cmd/benchnet [-quick] [-only latency,burst,…] [-dhtchat bin/dhtchat]
//
// Every process it starts is in a process group of its own that is killed
// when the harness ends, is interrupted (SIGINT, SIGTERM) or dies (the
// children get SIGKILL through PR_SET_PDEATHSIG).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// sections, in the order they run and print.
var sections = []struct {
	name, about string
	run         func(context.Context, *bench) error
}{
	{"crypto", "seal+open and slot encode+decode (Go benchmarks, in process)", benchCrypto},
	{"latency", "delivery latency at the default policy and over the focused poll interval", benchLatency},
	{"burst", "1,000 messages sent at once", benchBurst},
	{"backlog", "largest offline backlog of 80-byte messages and its drain time", benchBacklog},
	{"idle", "a client with 50 chats and 10,000 messages, idle: CPU, DHT requests, bytes, RSS", benchIdle},
	{"node", "RSS of a dhtchat node holding 10,000 records", benchNode},
	{"startup", "dhtchat process start to connected (and to the UI's first frame)", benchStartup},
	{"live", "live path vs DHT-only: Enter → other screen in two UIs in tmux (issue 12)", benchLive},
	{"scale", "delivery latency and put/get cost on 20, 50 and 100 nodes", benchScale},
}

// bench is one run of the harness: its settings and the rows measured.
type bench struct {
	quick   bool
	sparse  bool
	nodes   int
	dhtchat string // the dhtchat binary, for node and startup
	tmp     string
	log     *slog.Logger
	rows    []row
	// latency at the default policy on the nodes-server network, reused
	// by scale for its first size.
	defaultLatency *latencyResult
}

// row is one line of the table.
type row struct {
	id, measure, settings string
	n                     int
	med, p99              string
	cost                  string // DHT requests, bytes, CPU: what it costs
	target                string
	result                string // met, MISSED, pending or empty
}

func (b *bench) add(r row) {
	b.rows = append(b.rows, r)
	b.log.Info("result", "measure", r.measure, "median", r.med, "p99", r.p99, "cost", r.cost, "result", r.result)
}

// verdict returns "met" or "MISSED".
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == childFlag {
		if err := runChild(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "benchnet child: %v\n", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run())
}

func run() int {
	var (
		only    = flag.String("only", "", "run only these comma-separated sections (default all): "+sectionNames())
		quick   = flag.Bool("quick", false, "short windows and fewer samples: a smoke run in about 2 minutes, not figures to record")
		nodes   = flag.Int("nodes", 20, "DHT servers of the network for latency, burst, backlog, idle and startup")
		sparse  = flag.Bool("sparse", false, "build that network as scale does (servers join one by one through 3 others; clients know 4), not fully meshed: for emulated wide-area runs")
		dhtchat = flag.String("dhtchat", "", "the dhtchat binary for node and startup (default: go build ./cmd/dhtchat into a temp dir)")
		timeout = flag.Duration("timeout", 9*time.Minute, "give up on the sections not finished by then")
		verbose = flag.Bool("v", false, "log progress to stderr")
	)
	flag.Parse()

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	b := &bench{quick: *quick, sparse: *sparse, nodes: *nodes, dhtchat: *dhtchat,
		log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))}

	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s == "memory" {
			want["idle"], want["node"] = true, true
		} else if s != "" {
			want[s] = true
		}
	}
	for s := range want {
		if !knownSection(s) {
			fmt.Fprintf(os.Stderr, "benchnet: unknown section %q; the sections are %s (and memory = idle,node)\n", s, sectionNames())
			return 2
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	// Whatever happens below, no child outlives the harness.
	defer killChildren()

	var err error
	if b.tmp, err = os.MkdirTemp("", "benchnet-"); err != nil {
		fmt.Fprintf(os.Stderr, "benchnet: %v\n", err)
		return 1
	}
	defer os.RemoveAll(b.tmp)

	start := time.Now()
	failed := 0
	for _, s := range sections {
		if len(want) > 0 && !want[s.name] {
			continue
		}
		if ctx.Err() != nil {
			b.add(row{id: "-", measure: s.name, result: "not run: " + context.Cause(ctx).Error()})
			continue
		}
		fmt.Fprintf(os.Stderr, "benchnet: %s: %s\n", s.name, s.about)
		t := time.Now()
		if err := s.run(ctx, b); err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "benchnet: %s failed: %v\n", s.name, err)
			b.add(row{id: "-", measure: s.name, result: "FAILED: " + firstLine(err.Error())})
		}
		fmt.Fprintf(os.Stderr, "benchnet: %s took %s\n", s.name, time.Since(t).Round(time.Second))
	}
	b.print(os.Stdout, time.Since(start))
	if failed > 0 || ctx.Err() != nil {
		return 1
	}
	return 0
}

func sectionNames() string {
	var names []string
	for _, s := range sections {
		names = append(names, s.name)
	}
	return strings.Join(names, ",")
}

func knownSection(name string) bool {
	for _, s := range sections {
		if s.name == name {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// print writes the table, as Markdown so that it goes into
// docs/BENCHMARKS.md as it is.
func (b *bench) print(w io.Writer, took time.Duration) {
	host, _ := os.Hostname()
	mode := "full"
	if b.quick {
		mode = "quick (smoke run: not figures to record)"
	}
	fmt.Fprintf(w, "\ndhtchat benchmarks — %s, %s, %d CPUs, %s/%s, mode %s, took %s (host %s)\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.NumCPU(),
		runtime.GOOS, runtime.GOARCH, mode, took.Round(time.Second), host)
	fmt.Fprintln(w, "| # | measure | settings | n | median | p99 | cost | target | result |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|--:|---|---|---|")
	for _, r := range b.rows {
		n := ""
		if r.n > 0 {
			n = fmt.Sprint(r.n)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.id, r.measure, r.settings, n, r.med, r.p99, r.cost, r.target, r.result)
	}
}
