package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"
)

// caseProfile is what one case left behind for one process: its CPU profile (a file under
// the artifacts directory), the CPU time it used and the top functions of the profile.
type caseProfile struct {
	caseName, target, process string
	file                      string
	cpu                       time.Duration // user+system time used during the case
	wall                      time.Duration
	top                       []string // "42.0% kmsg.(*ProduceRequest).ReadFrom", flat
	exited                    bool     // the process ended during the case (kill -9, shutdown)
	err                       error
}

// profiler takes CPU profiles of every server of a target, and of this process (the client),
// for the length of one case. A server's profile comes from its /debug/pprof/profile in
// consecutive windows of window seconds (the handler takes whole seconds), merged into one.
// The last window runs on past the end of the case; rather than wait for it, the next case
// starts, which in this benchmark is the same case against the other target, while this
// target idles. A case against the same target waits for the window first (a process has
// one CPU profile at a time). The CPU time of each case is read from /proc at its exact
// start and end, and the client's profile too covers the case exactly. A server that dies
// during the case (a kill -9 on purpose) leaves the windows it finished.
type profiler struct {
	dir    string
	window time.Duration

	mu      sync.Mutex
	seq     int
	done    map[int][]caseProfile // by the case's sequence number
	pending map[*target]*running
	wg      sync.WaitGroup
}

type running struct {
	p        *profiler
	seq      int
	caseName string
	t        *target
	servers  []*server // t's servers at the start (a restart replaces one in t.servers)
	start    time.Time
	wall     time.Duration
	stop     chan struct{}
	wg       sync.WaitGroup
	finished chan struct{} // closed once the windows are merged and written
	mu       sync.Mutex
	windows  map[*server][]*profile.Profile
	errs     map[*server]error
	cpu0     map[*server]time.Duration
	cpu      map[*server]time.Duration
	exited   map[*server]bool
	client   caseProfile
	clientOn bool // this process's CPU profile is running into clientBuf
}

func (p *profiler) begin(caseName string, t *target) *running {
	p.mu.Lock()
	if p.done == nil {
		p.done, p.pending = map[int][]caseProfile{}, map[*target]*running{}
	}
	prev := p.pending[t]
	p.seq++
	seq := p.seq
	p.mu.Unlock()
	if prev != nil {
		<-prev.finished
	}
	r := &running{p: p, seq: seq, caseName: caseName, t: t, stop: make(chan struct{}), finished: make(chan struct{}),
		windows: map[*server][]*profile.Profile{}, errs: map[*server]error{},
		cpu0: map[*server]time.Duration{}, cpu: map[*server]time.Duration{}, exited: map[*server]bool{},
		servers: slices.Clone(t.servers)}
	for _, s := range r.servers {
		if !s.alive() {
			continue
		}
		r.cpu0[s], _ = cpuTime(s.cmd.Process.Pid)
		if p.dir == "" || s.pprof == "" {
			continue
		}
		r.wg.Go(func() { r.loop(s) })
	}
	r.client = caseProfile{caseName: caseName, target: t.name, process: "client"}
	r.client.cpu, _ = cpuTime(os.Getpid())
	if p.dir != "" {
		clientBuf.Reset()
		if err := pprof.StartCPUProfile(&clientBuf); err != nil {
			r.client.err = err
		} else {
			r.clientOn = true
		}
	}
	r.start = time.Now()
	return r
}

// clientBuf holds this process's CPU profile of the case running (one at a time).
var clientBuf bytes.Buffer

func (r *running) loop(s *server) {
	secs := max(int(r.p.window/time.Second), 1)
	hc := http.Client{Timeout: time.Duration(secs)*time.Second + 30*time.Second}
	for {
		select {
		case <-r.stop:
			return
		default:
		}
		resp, err := hc.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.pprof, secs))
		var prof *profile.Profile
		if err == nil {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
			resp.Body.Close()
			switch {
			case rerr != nil:
				err = rerr
			case resp.StatusCode != http.StatusOK:
				err = fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
			default:
				prof, err = profile.ParseData(body)
			}
		}
		if err != nil {
			// A server killed or shut down during the case (on purpose) refuses the next
			// window: that is no error if it is gone by the end of the case (or soon after).
			select {
			case <-s.exited:
				return
			case <-r.stop:
			}
			select {
			case <-s.exited:
			case <-time.After(2 * time.Second):
				r.mu.Lock()
				r.errs[s] = err
				r.mu.Unlock()
			}
			return
		}
		r.mu.Lock()
		r.windows[s] = append(r.windows[s], prof)
		r.mu.Unlock()
	}
}

// end ends the case: its CPU times now, the client's profile now, the servers' profiles
// once their windows in flight are done (in the background; results waits for them).
func (r *running) end() {
	r.wall = time.Since(r.start)
	for _, s := range r.servers {
		if t0, ok := r.cpu0[s]; ok {
			if t1, err := cpuTime(s.cmd.Process.Pid); err == nil && s.alive() {
				r.cpu[s] = t1 - t0
			} else {
				r.exited[s] = true
			}
		}
	}
	c := &r.client
	t1, _ := cpuTime(os.Getpid())
	c.cpu, c.wall = t1-c.cpu, r.wall
	if r.clientOn {
		pprof.StopCPUProfile()
		if prof, err := profile.ParseData(clientBuf.Bytes()); err != nil {
			c.err = err
		} else {
			c.file = filepath.Join(r.p.dir, fmt.Sprintf("%s-%s-client.cpu.pb.gz", r.caseName, r.t.name))
			c.err = writeProfile(c.file, prof)
			c.top = topFuncs(prof, 3)
		}
	}
	close(r.stop)
	r.p.mu.Lock()
	r.p.pending[r.t] = r
	r.p.mu.Unlock()
	r.p.wg.Go(r.finish)
}

func (r *running) finish() {
	defer close(r.finished)
	r.wg.Wait()
	var out []caseProfile
	for _, s := range r.servers {
		if _, ok := r.cpu0[s]; !ok {
			continue
		}
		cp := caseProfile{caseName: r.caseName, target: r.t.name, process: s.name, wall: r.wall,
			cpu: r.cpu[s], exited: r.exited[s], err: r.errs[s]}
		if ws := r.windows[s]; len(ws) > 0 {
			merged, err := profile.Merge(ws)
			if err == nil {
				cp.file = filepath.Join(r.p.dir, fmt.Sprintf("%s-%s-%s.cpu.pb.gz", r.caseName, r.t.name, s.name))
				err = writeProfile(cp.file, merged)
				cp.top = topFuncs(merged, 3)
			}
			cp.err = err
		}
		out = append(out, cp)
	}
	r.p.mu.Lock()
	r.p.done[r.seq] = append(out, r.client)
	r.p.mu.Unlock()
}

// settle waits until the target's last case has its profiles, before its servers go.
func (p *profiler) settle(t *target) {
	p.mu.Lock()
	r := p.pending[t]
	p.mu.Unlock()
	if r != nil {
		<-r.finished
	}
}

// results waits for every profile and returns them in the order of the cases.
func (p *profiler) results() []caseProfile {
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []caseProfile
	for i := 1; i <= p.seq; i++ {
		out = append(out, p.done[i]...)
	}
	return out
}

func writeProfile(path string, p *profile.Profile) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := p.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// topFuncs is the n functions with the most samples of their own (pprof -top's flat column),
// each with its share of all samples.
func topFuncs(p *profile.Profile, n int) []string {
	idx := len(p.SampleType) - 1 // cpu nanoseconds (samples/count comes first)
	flat := map[string]int64{}
	var total int64
	for _, s := range p.Sample {
		v := s.Value[idx]
		total += v
		if len(s.Location) == 0 || len(s.Location[0].Line) == 0 || s.Location[0].Line[0].Function == nil {
			continue
		}
		// The leaf's innermost line: with inlining, the function the sample is really in.
		flat[s.Location[0].Line[0].Function.Name] += v
	}
	if total == 0 {
		return nil
	}
	names := make([]string, 0, len(flat))
	for f := range flat {
		names = append(names, f)
	}
	sort.Slice(names, func(i, j int) bool {
		if flat[names[i]] != flat[names[j]] {
			return flat[names[i]] > flat[names[j]]
		}
		return names[i] < names[j]
	})
	var out []string
	for _, f := range names[:min(n, len(names))] {
		out = append(out, fmt.Sprintf("%.1f%% %s", 100*float64(flat[f])/float64(total), shortName(f)))
	}
	return out
}

// shortName drops the package's import path up to its last element:
// "github.com/klassik/klassik/broker.(*Broker).x" is "broker.(*Broker).x". Only the part
// before a receiver or type parameters is searched, as those may hold paths of their own.
func shortName(f string) string {
	head := f
	if i := strings.IndexAny(f, "(["); i >= 0 {
		head = f[:i]
	}
	if slash := strings.LastIndexByte(head, '/'); slash >= 0 {
		return f[slash+1:]
	}
	return f
}

// heapProfiles saves /debug/pprof/heap of every live server of the target.
func heapProfiles(dir string, t *target, label string) []string {
	var files []string
	hc := http.Client{Timeout: 30 * time.Second}
	for _, s := range t.servers {
		if !s.alive() || s.pprof == "" || dir == "" {
			continue
		}
		resp, err := hc.Get("http://" + s.pprof + "/debug/pprof/heap")
		if err != nil {
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			continue
		}
		f := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.heap.pb.gz", label, t.name, s.name))
		if os.WriteFile(f, body, 0o644) == nil {
			files = append(files, f)
		}
	}
	return files
}
