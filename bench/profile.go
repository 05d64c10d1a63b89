package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
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
	err                       error
}

// profiler takes CPU profiles of every server of a target, and of this process (the client),
// for the length of one case. A server's profile comes from its /debug/pprof/profile in
// consecutive windows of window seconds (the handler takes whole seconds), merged into one;
// the last window runs on past the end of the case, idle. A server that dies during the case
// (a kill -9 on purpose) leaves the windows it finished.
type profiler struct {
	dir    string
	window time.Duration
}

type running struct {
	p        *profiler
	caseName string
	t        *target
	start    time.Time
	stop     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	windows  map[*server][]*profile.Profile
	errs     map[*server]error
	cpu0     map[*server]time.Duration
	cpuEnd   map[*server]time.Duration
	client   bytes.Buffer
	clientT0 time.Duration
	clientOn bool
}

func (p *profiler) begin(caseName string, t *target) *running {
	r := &running{p: p, caseName: caseName, t: t, start: time.Now(), stop: make(chan struct{}),
		windows: map[*server][]*profile.Profile{}, errs: map[*server]error{},
		cpu0: map[*server]time.Duration{}, cpuEnd: map[*server]time.Duration{}}
	for _, s := range t.servers {
		if !s.alive() {
			continue
		}
		r.cpu0[s], _ = cpuTime(s.cmd.Process.Pid)
		if p.dir == "" || s.pprof == "" {
			continue
		}
		r.wg.Go(func() { r.loop(s) })
	}
	r.clientT0, _ = cpuTime(os.Getpid())
	if p.dir != "" && pprof.StartCPUProfile(&r.client) == nil {
		r.clientOn = true
	}
	return r
}

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
		r.mu.Lock()
		if err != nil {
			if s.alive() {
				r.errs[s] = err
			}
			r.mu.Unlock()
			return
		}
		r.windows[s] = append(r.windows[s], prof)
		r.mu.Unlock()
	}
}

// end stops the profiles (waiting for the windows in flight), writes them under the
// artifacts directory and returns one caseProfile per process.
func (r *running) end() []caseProfile {
	wall := time.Since(r.start)
	for _, s := range r.t.servers {
		if _, ok := r.cpu0[s]; ok {
			r.cpuEnd[s], _ = cpuTime(s.cmd.Process.Pid)
		}
	}
	clientT1, _ := cpuTime(os.Getpid())
	if r.clientOn {
		pprof.StopCPUProfile()
	}
	close(r.stop)
	r.wg.Wait()

	var out []caseProfile
	base := fmt.Sprintf("%s-%s", r.caseName, r.t.name)
	for _, s := range r.t.servers {
		if _, ok := r.cpu0[s]; !ok {
			continue
		}
		cp := caseProfile{caseName: r.caseName, target: r.t.name, process: s.name, wall: wall, err: r.errs[s]}
		if end := r.cpuEnd[s]; end > 0 {
			cp.cpu = end - r.cpu0[s]
		}
		if ws := r.windows[s]; len(ws) > 0 && r.p.dir != "" {
			merged, err := profile.Merge(ws)
			if err == nil {
				cp.file = filepath.Join(r.p.dir, fmt.Sprintf("%s-%s.cpu.pb.gz", base, s.name))
				err = writeProfile(cp.file, merged)
				cp.top = topFuncs(merged, 3)
			}
			cp.err = err
		}
		out = append(out, cp)
	}
	cp := caseProfile{caseName: r.caseName, target: r.t.name, process: "client", wall: wall, cpu: clientT1 - r.clientT0}
	if r.clientOn {
		if prof, err := profile.ParseData(r.client.Bytes()); err != nil {
			cp.err = err
		} else {
			cp.file = filepath.Join(r.p.dir, fmt.Sprintf("%s-client.cpu.pb.gz", base))
			cp.err = writeProfile(cp.file, prof)
			cp.top = topFuncs(prof, 3)
		}
	}
	return append(out, cp)
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
