package kubernetes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/klassik/klassik/cmd/klassik/tools"
	"github.com/klassik/klassik/conf"
	"github.com/klassik/klassik/zkclient"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// This file is what the brokers rely on in the manifests, as one function, check, so that
// the tests can run it on the manifests as they are and on broken copies of them.

// testNamespace is where the simulated pods live: not "default", so that a name with the
// namespace written into it shows up.
const testNamespace = "streaming"

// The StatefulSets and containers the checks look for.
const (
	zkSet, zkContainer           = "zookeeper", "zookeeper"
	brokerSet, brokerContainer   = "klassik", "klassik"
	zkClientPort, zkQuorumPort   = 2181, 2888
	zkElectionPort, wantReplicas = 3888, 3
)

// imageFacts is what docker/klassik/Dockerfile says about the broker image.
type imageFacts struct {
	entrypoint []string
	env        []string // ENV k=v, in order
	uid, gid   int64
}

// readImage reads the final stage's ENTRYPOINT, ENV and USER of a Dockerfile.
func readImage(path string) (imageFacts, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return imageFacts{}, err
	}
	var f imageFacts
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "FROM "):
			f = imageFacts{} // a new stage
		case strings.HasPrefix(line, "ENTRYPOINT "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "ENTRYPOINT ")), &f.entrypoint); err != nil {
				return f, fmt.Errorf("%s: ENTRYPOINT in exec form expected: %w", path, err)
			}
		case strings.HasPrefix(line, "ENV "):
			for _, kv := range strings.Fields(strings.TrimPrefix(line, "ENV ")) {
				if !strings.Contains(kv, "=") {
					return f, fmt.Errorf("%s: ENV %q: only the k=v form is read here", path, kv)
				}
				f.env = append(f.env, kv)
			}
		case strings.HasPrefix(line, "USER "):
			u, g, _ := strings.Cut(strings.TrimPrefix(line, "USER "), ":")
			if f.uid, err = strconv.ParseInt(u, 10, 64); err != nil {
				return f, fmt.Errorf("%s: USER %q: numeric uid expected", path, u)
			}
			if f.gid, err = strconv.ParseInt(g, 10, 64); err != nil {
				return f, fmt.Errorf("%s: USER %q: numeric uid:gid expected", path, line)
			}
		}
	}
	if len(f.entrypoint) == 0 {
		return f, fmt.Errorf("%s: no ENTRYPOINT in the final stage", path)
	}
	return f, nil
}

// composeFacts is what docker-compose.yml says that the manifests must agree with.
type composeFacts struct {
	zkImage     string // the image of the x-zookeeper anchor
	brokerImage string // the image of the x-klassik anchor
	graceSecs   int64  // the longest stop_grace_period, in seconds
}

var (
	composeZKImage     = regexp.MustCompile(`(?m)^x-zookeeper: &\w+\n\s+image:\s*(\S+)`)
	composeBrokerImage = regexp.MustCompile(`(?m)^x-klassik: &\w+\n\s+image:\s*(\S+)`)
	composeGrace       = regexp.MustCompile(`(?m)^\s+stop_grace_period:\s*(\d+)s\b`)
)

func readCompose(path string) (composeFacts, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return composeFacts{}, err
	}
	var f composeFacts
	if m := composeZKImage.FindSubmatch(data); m != nil {
		f.zkImage = string(m[1])
	}
	if m := composeBrokerImage.FindSubmatch(data); m != nil {
		f.brokerImage = string(m[1])
	}
	for _, m := range composeGrace.FindAllSubmatch(data, -1) {
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		f.graceSecs = max(f.graceSecs, n)
	}
	if f.zkImage == "" || f.brokerImage == "" || f.graceSecs == 0 {
		return f, fmt.Errorf("%s: expected the images of x-zookeeper and x-klassik and a stop_grace_period", path)
	}
	return f, nil
}

// checker collects every problem found, so that one run lists them all.
type checker struct{ errs []error }

func (c *checker) failf(format string, a ...any) { c.errs = append(c.errs, fmt.Errorf(format, a...)) }

// check runs every check on the manifests.
func check(b *bundle, img imageFacts, cf composeFacts) []error {
	c := &checker{}
	zk, br := b.statefulSets[zkSet], b.statefulSets[brokerSet]
	if zk == nil || br == nil {
		c.failf("want the StatefulSets %q and %q, have %v", zkSet, brokerSet, sortedKeys(b.statefulSets))
		return c.errs
	}
	pods := map[string][]*corev1.Pod{}
	for _, name := range sortedKeys(b.statefulSets) {
		sts := b.statefulSets[name]
		for _, o := range ordinals(sts) {
			pods[name] = append(pods[name], podFor(sts, o, testNamespace, ""))
		}
	}
	for _, name := range sortedKeys(b.statefulSets) {
		c.statefulSet(b, b.statefulSets[name], pods)
	}
	c.zookeeper(zk, pods[zkSet], cf)
	c.brokers(b, br, pods[zkSet], img, cf)
	return c.errs
}

// statefulSet checks what both sets need: three replicas started in parallel, a headless
// Service that resolves every pod before it is ready, a PodDisruptionBudget of one, and
// persistent volumes.
func (c *checker) statefulSet(b *bundle, sts *appsv1.StatefulSet, pods map[string][]*corev1.Pod) {
	name := "StatefulSet " + sts.Name
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != wantReplicas {
		c.failf("%s: replicas must be %d", name, wantReplicas)
	}
	// OrderedReady would deadlock ZooKeeper (no pod is ready before a quorum exists) and
	// serialises broker starts for nothing.
	if sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		c.failf("%s: podManagementPolicy must be Parallel, is %q", name, sts.Spec.PodManagementPolicy)
	}
	sel, err := metav1.LabelSelectorAsSelector(sts.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(sts.Spec.Template.Labels)) {
		c.failf("%s: spec.selector must match the pod template's labels (%v)", name, err)
	}
	own := pods[sts.Name]
	var others []*corev1.Pod
	for n, ps := range pods {
		if n != sts.Name {
			others = append(others, ps...)
		}
	}

	svc := b.services[sts.Spec.ServiceName]
	switch {
	case svc == nil:
		c.failf("%s: serviceName %q: no such Service (have %v)", name, sts.Spec.ServiceName, sortedKeys(b.services))
	case svc.Spec.ClusterIP != corev1.ClusterIPNone:
		c.failf("%s: serviceName %q must be a headless Service (clusterIP None), has clusterIP %q", name, svc.Name, svc.Spec.ClusterIP)
	case !svc.Spec.PublishNotReadyAddresses:
		c.failf("%s: headless Service %q needs publishNotReadyAddresses: the pods find each other by name before they are ready", name, svc.Name)
	}
	if svc != nil {
		c.selects("Service "+svc.Name, labels.SelectorFromSet(svc.Spec.Selector), own, others, len(svc.Spec.Selector) == 0)
		for _, ct := range sts.Spec.Template.Spec.Containers {
			for _, p := range ct.Ports {
				if !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool {
					return sp.Port == p.ContainerPort && (sp.TargetPort.IntValue() == int(p.ContainerPort) || sp.TargetPort.String() == p.Name)
				}) {
					c.failf("%s: headless Service %q does not expose container port %d (%s)", name, svc.Name, p.ContainerPort, p.Name)
				}
			}
		}
	}

	var budgets []string
	for _, pn := range sortedKeys(b.pdbs) {
		pdb := b.pdbs[pn]
		s, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || len(own) == 0 || !s.Matches(labels.Set(own[0].Labels)) {
			continue
		}
		budgets = append(budgets, pn)
		c.selects("PodDisruptionBudget "+pn, s, own, others, pdb.Spec.Selector == nil)
		if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.String() != "1" || pdb.Spec.MinAvailable != nil {
			c.failf("PodDisruptionBudget %s: want maxUnavailable 1 (and no minAvailable)", pn)
		}
	}
	if len(budgets) != 1 {
		c.failf("%s: want one PodDisruptionBudget selecting its pods, found %v", name, budgets)
	}

	claims := map[string]bool{}
	for _, t := range sts.Spec.VolumeClaimTemplates {
		claims[t.Name] = false
	}
	for _, ct := range sts.Spec.Template.Spec.Containers {
		for _, m := range ct.VolumeMounts {
			if _, ok := claims[m.Name]; ok {
				claims[m.Name] = true
			} else if !slices.ContainsFunc(sts.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name }) {
				c.failf("%s: volumeMount %q names no volume and no volumeClaimTemplate", name, m.Name)
			}
		}
	}
	for _, n := range sortedKeys(claims) {
		if !claims[n] {
			c.failf("%s: volumeClaimTemplate %q is mounted nowhere", name, n)
		}
	}
}

// selects checks that sel picks every pod of own and none of others.
func (c *checker) selects(what string, sel labels.Selector, own, others []*corev1.Pod, empty bool) {
	if empty {
		c.failf("%s: an empty selector", what)
		return
	}
	for _, p := range own {
		if !sel.Matches(labels.Set(p.Labels)) {
			c.failf("%s: selector %s does not match pod %s (labels %v)", what, sel, p.Name, p.Labels)
		}
	}
	for _, p := range others {
		if sel.Matches(labels.Set(p.Labels)) {
			c.failf("%s: selector %s also matches pod %s of another StatefulSet", what, sel, p.Name)
		}
	}
}

// mountedFromClaim says whether path lies on a volume from a volumeClaimTemplate.
func mountedFromClaim(sts *appsv1.StatefulSet, ct *corev1.Container, path string) bool {
	for _, m := range ct.VolumeMounts {
		if !slices.ContainsFunc(sts.Spec.VolumeClaimTemplates, func(t corev1.PersistentVolumeClaim) bool { return t.Name == m.Name }) {
			continue
		}
		mp := strings.TrimRight(m.MountPath, "/")
		if path == mp || strings.HasPrefix(path, mp+"/") {
			return true
		}
	}
	return false
}

// unresolved reports env values still holding a $(VAR) after the kubelet's expansion: a
// reference to a variable not defined above it.
func (c *checker) unresolved(what string, env map[string]string) {
	for _, k := range sortedKeys(env) {
		if strings.Contains(env[k], "$(") {
			c.failf("%s: env %s = %q refers to a variable not defined above it", what, k, env[k])
		}
	}
}

// zookeeper checks the ensemble: myid 1..255 from the ordinal, distinct, and every node's
// ZOO_SERVERS naming every pod by its stable name with this node's id.
func (c *checker) zookeeper(sts *appsv1.StatefulSet, pods []*corev1.Pod, cf composeFacts) {
	ct := container(&sts.Spec.Template.Spec, zkContainer)
	if ct == nil {
		c.failf("StatefulSet %s: no container %q", sts.Name, zkContainer)
		return
	}
	if ct.Image != cf.zkImage {
		c.failf("StatefulSet %s: image %q, but docker-compose.yml runs %q", sts.Name, ct.Image, cf.zkImage)
	}
	for _, port := range []int32{zkClientPort, zkQuorumPort, zkElectionPort} {
		if _, ok := containerPort(ct, port); !ok {
			c.failf("StatefulSet %s: container %s declares no port %d", sts.Name, ct.Name, port)
		}
	}
	ids := map[int]string{}
	want := map[string]bool{}
	envs := make([]map[string]string, len(pods))
	for i, pod := range pods {
		_, env, err := containerEnv(pod, ct)
		if err != nil {
			c.failf("pod %s: %v", pod.Name, err)
			return
		}
		envs[i] = env
		c.unresolved("pod "+pod.Name, env)
		id, err := strconv.Atoi(env["ZOO_MY_ID"])
		if err != nil || id < 1 || id > 255 {
			c.failf("pod %s: ZOO_MY_ID = %q: ZooKeeper wants a myid from 1 to 255", pod.Name, env["ZOO_MY_ID"])
			continue
		}
		if other, dup := ids[id]; dup {
			c.failf("pods %s and %s have the same ZOO_MY_ID %d", other, pod.Name, id)
		}
		ids[id] = pod.Name
		want[fmt.Sprintf("server.%d=%s:%d:%d;%d", id, fqdn(pod), zkQuorumPort, zkElectionPort, zkClientPort)] = true
	}
	for i, pod := range pods {
		got := map[string]bool{}
		for _, s := range strings.Fields(envs[i]["ZOO_SERVERS"]) {
			got[s] = true
		}
		if !mapsEqual(got, want) {
			c.failf("pod %s: ZOO_SERVERS lists %v, want every pod by its stable name with its myid: %v", pod.Name, sortedKeys(got), sortedKeys(want))
		}
		for _, dir := range []string{orDefault(envs[i]["ZOO_DATA_DIR"], "/data"), orDefault(envs[i]["ZOO_DATA_LOG_DIR"], "/datalog")} {
			if !mountedFromClaim(sts, ct, dir) {
				c.failf("pod %s: ZooKeeper's %s is not on a persistent volume: a restarted node would forget the ensemble's data and its myid", pod.Name, dir)
			}
		}
	}
}

// brokers checks each broker's configuration, as klassik's loader reads it from the pod's
// environment, and the probes.
func (c *checker) brokers(b *bundle, sts *appsv1.StatefulSet, zkPods []*corev1.Pod, img imageFacts, cf composeFacts) {
	spec := &sts.Spec.Template.Spec
	ct := container(spec, brokerContainer)
	if ct == nil {
		c.failf("StatefulSet %s: no container %q", sts.Name, brokerContainer)
		return
	}
	if ct.Image != cf.brokerImage {
		c.failf("StatefulSet %s: image %q, but docker-compose.yml builds %q", sts.Name, ct.Image, cf.brokerImage)
	}
	if len(ct.Command) != 0 || len(ct.Args) == 0 || ct.Args[0] != "broker" {
		c.failf("StatefulSet %s: want the image's entrypoint %v with args [broker ...], have command %v args %v", sts.Name, img.entrypoint, ct.Command, ct.Args)
	}
	if spec.EnableServiceLinks == nil || *spec.EnableServiceLinks {
		c.failf("StatefulSet %s: enableServiceLinks must be false: a Service named kafka would give the broker KAFKA_PORT and friends, which it refuses as unknown properties", sts.Name)
	}
	if sc := spec.SecurityContext; sc == nil || sc.FSGroup == nil || *sc.FSGroup != img.gid {
		c.failf("StatefulSet %s: securityContext.fsGroup must be the image's group %d, or the broker (uid %d) cannot write its volume", sts.Name, img.gid, img.uid)
	}
	if g := spec.TerminationGracePeriodSeconds; g == nil || *g < cf.graceSecs {
		c.failf("StatefulSet %s: terminationGracePeriodSeconds must be at least docker-compose.yml's stop_grace_period (%ds) for a controlled shutdown", sts.Name, cf.graceSecs)
	}
	zkWant := map[string]bool{}
	for _, p := range zkPods {
		zkWant[net.JoinHostPort(fqdn(p), strconv.Itoa(zkClientPort))] = true
	}
	headless := b.services[sts.Spec.ServiceName]

	ids := map[int32]string{}
	var first *conf.Config
	for _, o := range ordinals(sts) {
		zone := fmt.Sprintf("zone-%d", o%2)
		pod := podFor(sts, o, testNamespace, zone)
		cfg := c.brokerConfig(pod, ct, img)
		if cfg == nil {
			continue
		}
		if first == nil {
			first = cfg
		}
		// broker.id from the ordinal: klassik-N is broker N.
		if cfg.BrokerID != int32(o) {
			c.failf("pod %s: broker.id = %d, want its ordinal %d", pod.Name, cfg.BrokerID, o)
		}
		if other, dup := ids[cfg.BrokerID]; dup {
			c.failf("pods %s and %s both have broker.id %d", other, pod.Name, cfg.BrokerID)
		}
		ids[cfg.BrokerID] = pod.Name
		if cfg.BrokerRack != zone {
			c.failf("pod %s on a node in %s: broker.rack = %q, want the zone", pod.Name, zone, cfg.BrokerRack)
		}
		if cfg.FaultsEnable {
			c.failf("pod %s: klassik.faults.enable is for the classroom, never for a cluster like this", pod.Name)
		}

		ls, err := cfg.ListenerList()
		if err != nil {
			c.failf("pod %s: %v", pod.Name, err)
		}
		for _, l := range ls {
			if l.Host != "" && l.Host != "0.0.0.0" && l.Host != "::" {
				c.failf("pod %s: listener %s binds %q: bind every interface, the pod's address is not known in advance", pod.Name, l, l.Host)
			}
			if _, ok := containerPort(ct, l.Port); !ok {
				c.failf("pod %s: listener %s: the container declares no port %d", pod.Name, l, l.Port)
			}
		}
		adv, err := cfg.AdvertisedListenerList()
		if err != nil {
			c.failf("pod %s: %v", pod.Name, err)
		}
		for _, l := range adv {
			if l.Host != fqdn(pod) {
				c.failf("pod %s: advertised listener %s: want the pod's stable name %s, which clients and the other brokers resolve through the headless Service", pod.Name, l, fqdn(pod))
			}
			if headless != nil && !slices.ContainsFunc(headless.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == l.Port }) {
				c.failf("pod %s: advertised listener %s: headless Service %s has no port %d", pod.Name, l, headless.Name, l.Port)
			}
		}
		if ib, err := cfg.InterBrokerListener(); err != nil || ib.Host != fqdn(pod) {
			c.failf("pod %s: inter-broker listener %v (%v): want the pod's stable name", pod.Name, ib, err)
		}

		servers, chroot, err := zkclient.ParseConnect(cfg.ZookeeperConnect)
		got := map[string]bool{}
		for _, s := range servers {
			got[s] = true
		}
		if err != nil || !mapsEqual(got, zkWant) {
			c.failf("pod %s: zookeeper.connect = %q (%v): want every ZooKeeper pod by its stable name on %d: %v", pod.Name, cfg.ZookeeperConnect, err, zkClientPort, sortedKeys(zkWant))
		}
		if chroot == "" {
			c.failf("pod %s: zookeeper.connect = %q: want a chroot (/klassik), as docker-compose.yml", pod.Name, cfg.ZookeeperConnect)
		}
		for _, d := range cfg.LogDirList() {
			if !mountedFromClaim(sts, ct, d) {
				c.failf("pod %s: log.dirs entry %s is not on a volume from a volumeClaimTemplate: the partitions would be lost with the pod", pod.Name, d)
			}
		}
	}
	if first == nil {
		return
	}
	// Without the zone label (most clusters today), the broker starts with no rack.
	noZone := podFor(sts, ordinals(sts)[0], testNamespace, "")
	if cfg := c.brokerConfig(noZone, ct, img); cfg != nil && cfg.BrokerRack != "" {
		c.failf("pod %s without a zone label: broker.rack = %q, want none", noZone.Name, cfg.BrokerRack)
	}
	c.brokerProbes(ct, img, first)
}

// brokerConfig is the configuration the broker in this pod loads: the image's ENV, then the
// container's env, through conf.Load (no server.toml, no overrides: the image's CMD).
func (c *checker) brokerConfig(pod *corev1.Pod, ct *corev1.Container, img imageFacts) *conf.Config {
	environ, env, err := containerEnv(pod, ct)
	if err != nil {
		c.failf("pod %s: %v", pod.Name, err)
		return nil
	}
	c.unresolved("pod "+pod.Name, env)
	cfg, err := conf.Load("", append(slices.Clone(img.env), environ...), nil)
	if err != nil {
		c.failf("pod %s: the broker would not start: %v", pod.Name, err)
		return nil
	}
	return cfg
}

// brokerProbes checks that each probe is a `klassik healthcheck` the real tool accepts, that
// asks this broker on its own ports, within the probe's timeout; readiness is the broker's
// /healthz (a ZooKeeper session, and listed in the controller's metadata), liveness is not
// (a ZooKeeper outage must not restart every broker).
func (c *checker) brokerProbes(ct *corev1.Container, img imageFacts, cfg *conf.Config) {
	probes := []struct {
		name string
		p    *corev1.Probe
	}{{"startupProbe", ct.StartupProbe}, {"readinessProbe", ct.ReadinessProbe}, {"livenessProbe", ct.LivenessProbe}}
	_, metricsPort, _ := net.SplitHostPort(cfg.MetricsListener)
	for _, pr := range probes {
		what := "container " + ct.Name + " " + pr.name
		if pr.p == nil || pr.p.Exec == nil {
			c.failf("%s: want an exec probe running klassik healthcheck", what)
			continue
		}
		cmd := pr.p.Exec.Command
		static := staticEnv(ct)
		for _, a := range cmd {
			if e := expand(a, static); e != a || strings.Contains(e, "$(") {
				c.failf("%s: argument %q: the kubelet expands only plain env values in a probe's command, so this becomes %q", what, a, e)
			}
		}
		if len(cmd) < 2 || cmd[0] != img.entrypoint[0] || cmd[1] != "healthcheck" {
			c.failf("%s: command %q: want [%s healthcheck ...] (the image has no shell)", what, cmd, img.entrypoint[0])
			continue
		}
		args := cmd[2:]
		if code, out := runTool("healthcheck", append(slices.Clone(args), "--help")); code != 0 {
			c.failf("%s: klassik healthcheck refuses %q: %s", what, args, out)
			continue
		}
		flags := probeFlags(args)
		ms := int64(5000) // healthcheck's default --timeout-ms
		if v, ok := flags["timeout-ms"]; ok {
			ms, _ = strconv.ParseInt(v, 10, 64)
		}
		if int64(pr.p.TimeoutSeconds)*1000 <= ms {
			c.failf("%s: timeoutSeconds %d must exceed --timeout-ms %d, or the kubelet gives up before the tool says why", what, pr.p.TimeoutSeconds, ms)
		}
		httpURL, isHTTP := flags["http"]
		if isHTTP {
			u, err := url.Parse(httpURL)
			if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") || u.Port() != metricsPort || u.Path != "/healthz" {
				c.failf("%s: --http %s: want http://127.0.0.1:%s/healthz, the broker's own metrics.listener (%q)", what, httpURL, metricsPort, cfg.MetricsListener)
			}
		}
		if bs, ok := flags["bootstrap-server"]; ok {
			ls, _ := cfg.ListenerList()
			for _, s := range strings.Split(bs, ",") {
				host, port, err := net.SplitHostPort(s)
				if err != nil || (host != "127.0.0.1" && host != "localhost") ||
					!slices.ContainsFunc(ls, func(l conf.Listener) bool { return strconv.Itoa(int(l.Port)) == port }) {
					c.failf("%s: --bootstrap-server %s: want 127.0.0.1 on one of the broker's listeners %q", what, s, cfg.Listeners)
				}
			}
		}
		switch pr.name {
		case "readinessProbe":
			if !isHTTP {
				c.failf("%s: want --http to the broker's /healthz: ready means in the controller's metadata, not only listening", what)
			}
		case "livenessProbe":
			if isHTTP {
				c.failf("%s: /healthz fails while ZooKeeper is away; as liveness it would restart every broker then", what)
			}
		}
	}
}

// probeFlags reads --name value and --name=value pairs (the last one wins).
func probeFlags(args []string) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok {
			continue
		}
		if k, v, eq := strings.Cut(name, "="); eq {
			out[k] = v
		} else if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			out[name] = args[i+1]
			i++
		} else {
			out[name] = ""
		}
	}
	return out
}

// runTool runs one of the binary's tools in process, as `klassik NAME args...` would.
func runTool(name string, args []string) (int, string) {
	for _, t := range tools.Commands() {
		if t.Name == name {
			var stdout, stderr bytes.Buffer
			code := t.Run(args, strings.NewReader(""), &stdout, &stderr)
			return code, strings.TrimSpace(stderr.String() + stdout.String())
		}
	}
	return -1, "no tool " + name
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
