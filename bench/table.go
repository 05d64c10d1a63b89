package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// print writes the table (and the profiles' summary) to stdout and, with profiles on, to
// table.md beside them.
func (b *bench) print(took time.Duration) {
	var w strings.Builder
	b.write(&w, took)
	fmt.Print(w.String())
	if b.prof.dir != "" {
		path := filepath.Join(b.prof.dir, "table.md")
		if err := os.WriteFile(path, []byte(w.String()), 0o644); err != nil {
			b.fail(err)
		}
	}
}

func (b *bench) write(w io.Writer, took time.Duration) {
	mode := "idempotent, acks=all"
	if *txnEvery > 0 {
		mode = fmt.Sprintf("transactional (a commit every %s records), read_committed", countLabel(*txnEvery))
	}
	fmt.Fprintf(w, "\nfranz-go client (%s, no compression, one process for both targets), %d partitions per topic; kfake in its own process (bench/kfakeserver)\n", mode, *partitions)
	fmt.Fprintf(w, "%s\n\n", machine())
	fmt.Fprintln(w, "| case | klassik | kfake | klassik / kfake |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range b.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.label, cell(r.klassik), cell(r.kfake), r.ratio)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Ratios of throughput: above 1 klassik is faster.")
	if b.cases["latency"] {
		fmt.Fprintln(w, "Latency: producer send to consumer receipt, both in the client process, at a fixed rate; half of peak is half of the lower of the two RF 3 produce rates. Ratio of p99: below 1 klassik is quicker.")
	}
	if b.cases["scale"] {
		fmt.Fprintf(w, "Scale rows (klassik only, kfake has no failover): zookeeper.session.timeout.ms %d, as integration/scale_test.go; the session expired when ZooKeeper's dump no longer listed the broker's ephemeral znode; Metadata from the controller.\n", scaleSessionTimeout.Milliseconds())
	}
	fmt.Fprintf(w, "\ncommand: (cd bench && go run . %s)   took %s\n", strings.Join(quoteArgs(os.Args[1:]), " "), took.Round(time.Second))

	profiles := b.prof.results()
	if len(profiles) == 0 {
		return
	}
	where := "profiles off (-profiles none)"
	if b.prof.dir != "" {
		abs, _ := filepath.Abs(b.prof.dir)
		where = "profiles in " + abs
	}
	fmt.Fprintf(w, "\nCPU per case and process (%s; go tool pprof -top FILE):\n\n", where)
	fmt.Fprintln(w, "| case | target | process | CPU s | wall s | top 3 (flat) | profile |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, p := range profiles {
		file := "—"
		if p.file != "" {
			file = filepath.Base(p.file)
		}
		top := strings.Join(p.top, ", ")
		if p.err != nil {
			top = "error: " + firstLine(p.err.Error())
		}
		cpu := fmt.Sprintf("%.2f", p.cpu.Seconds())
		if p.exited {
			top = strings.TrimSpace("(exited during the case) " + top)
			cpu = "—"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.2f | %s | %s |\n", p.caseName, p.target, p.process, cpu, p.wall.Seconds(), cell(top), file)
	}
	if len(b.heaps) > 0 {
		fmt.Fprintln(w, "\nheap profiles after the throughput cases:")
		for _, h := range b.heaps {
			fmt.Fprintln(w, "  "+filepath.Base(h))
		}
	}
}

// cell keeps a table cell on its row.
func cell(s string) string {
	if s == "" {
		return "—"
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return out
}
