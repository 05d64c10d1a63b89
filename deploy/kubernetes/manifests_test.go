package kubernetes

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const repoRoot = "../.."

// load reads the manifests and the facts they must agree with.
func load(t *testing.T) (*bundle, *kustomization, imageFacts, composeFacts) {
	t.Helper()
	b, k, err := loadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	img, err := readImage(filepath.Join(repoRoot, "docker/klassik/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := readCompose(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return b, k, img, cf
}

func TestManifests(t *testing.T) {
	b, _, img, cf := load(t)
	for _, err := range check(b, img, cf) {
		t.Error(err)
	}
	// What the checks walked through, so that a pass means something.
	for _, name := range sortedKeys(b.statefulSets) {
		sts := b.statefulSets[name]
		t.Logf("StatefulSet %s: pods %v under Service %s", name, ordinals(sts), sts.Spec.ServiceName)
	}
}

// Every yaml file of the folder is a resource of the kustomization, and nothing else is.
func TestKustomizationListsEveryManifest(t *testing.T) {
	_, k, _, _ := load(t)
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return f == "kustomization.yaml" })
	res := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(res, files) {
		t.Errorf("kustomization.yaml resources %v, want the folder's manifests %v", res, files)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml: apiVersion %q kind %q", k.APIVersion, k.Kind)
	}
}

// The check fails on broken manifests: each case breaks one thing the brokers rely on.
func TestChecksCatchBrokenManifests(t *testing.T) {
	broker := func(b *bundle) *corev1.Container {
		return container(&b.statefulSets[brokerSet].Spec.Template.Spec, brokerContainer)
	}
	zk := func(b *bundle) *corev1.Container {
		return container(&b.statefulSets[zkSet].Spec.Template.Spec, zkContainer)
	}
	setEnv := func(ct *corev1.Container, name, value string) {
		for i := range ct.Env {
			if ct.Env[i].Name == name {
				ct.Env[i] = corev1.EnvVar{Name: name, Value: value}
				return
			}
		}
		ct.Env = append(ct.Env, corev1.EnvVar{Name: name, Value: value})
	}
	envValue := func(ct *corev1.Container, name string) string {
		for _, e := range ct.Env {
			if e.Name == name {
				return e.Value
			}
		}
		return ""
	}
	cases := []struct {
		name   string
		mutate func(b *bundle)
		want   string
	}{
		{"serviceName names the bootstrap Service", func(b *bundle) { b.statefulSets[brokerSet].Spec.ServiceName = "klassik" },
			"must be a headless Service"},
		{"serviceName names no Service", func(b *bundle) { b.statefulSets[zkSet].Spec.ServiceName = "zk" },
			`serviceName "zk": no such Service`},
		{"headless Service hides unready pods", func(b *bundle) { b.services["zookeeper-headless"].Spec.PublishNotReadyAddresses = false },
			"publishNotReadyAddresses"},
		{"headless Service selects another app", func(b *bundle) {
			b.services["klassik-headless"].Spec.Selector = map[string]string{"app.kubernetes.io/name": "zookeeper"}
		}, "does not match pod klassik-1"},
		{"headless Service lacks the Kafka port", func(b *bundle) {
			b.services["klassik-headless"].Spec.Ports = b.services["klassik-headless"].Spec.Ports[1:]
		}, "has no port 9092"},
		{"one broker.id for all", func(b *bundle) { setEnv(broker(b), "KAFKA_BROKER_ID", "1") }, "both have broker.id 1"},
		{"broker.id missing", func(b *bundle) {
			ct := broker(b)
			ct.Env = slices.DeleteFunc(ct.Env, func(e corev1.EnvVar) bool { return e.Name == "KAFKA_BROKER_ID" })
		}, "broker would not start"},
		{"advertised through the bootstrap Service", func(b *bundle) {
			setEnv(broker(b), "KAFKA_ADVERTISED_LISTENERS", "PLAINTEXT://klassik:9092")
		}, "want the pod's stable name"},
		{"advertised name refers to an undefined variable", func(b *bundle) {
			ct := broker(b)
			setEnv(ct, "KAFKA_ADVERTISED_LISTENERS", strings.ReplaceAll(envValue(ct, "KAFKA_ADVERTISED_LISTENERS"), "$(POD_NAME)", "$(HOSTNAME)"))
		}, "refers to a variable not defined above it"},
		{"zookeeper.connect misses a node", func(b *bundle) {
			ct := broker(b)
			v := envValue(ct, "KAFKA_ZOOKEEPER_CONNECT")
			setEnv(ct, "KAFKA_ZOOKEEPER_CONNECT", v[strings.Index(v, ",")+1:])
		}, "want every ZooKeeper pod"},
		{"zookeeper.connect without chroot", func(b *bundle) {
			ct := broker(b)
			setEnv(ct, "KAFKA_ZOOKEEPER_CONNECT", strings.TrimSuffix(envValue(ct, "KAFKA_ZOOKEEPER_CONNECT"), "/klassik"))
		}, "want a chroot"},
		{"log.dirs off the volume", func(b *bundle) { setEnv(broker(b), "KAFKA_LOG_DIRS", "/tmp/klassik") }, "not on a volume"},
		{"volume mounted elsewhere", func(b *bundle) { broker(b).VolumeMounts[0].MountPath = "/data" }, "not on a volume"},
		{"readiness flag the tool lacks", func(b *bundle) {
			broker(b).ReadinessProbe.Exec.Command = []string{"/usr/local/bin/klassik", "healthcheck", "--bootstrap-servers", "127.0.0.1:9092"}
		}, "not a recognized option"},
		{"readiness with a valueFrom variable", func(b *bundle) {
			p := broker(b).ReadinessProbe.Exec
			p.Command = append(p.Command, "--broker-id", "$(KAFKA_BROKER_ID)")
		}, "expands only plain env values"},
		{"readiness only listening", func(b *bundle) { broker(b).ReadinessProbe = broker(b).LivenessProbe.DeepCopy() },
			"ready means in the controller's metadata"},
		{"readiness on the wrong port", func(b *bundle) {
			p := broker(b).ReadinessProbe.Exec
			p.Command = slices.Clone(p.Command)
			for i, a := range p.Command {
				p.Command[i] = strings.Replace(a, ":9404/", ":9405/", 1)
			}
		}, "the broker's own metrics.listener"},
		{"liveness on /healthz", func(b *bundle) { broker(b).LivenessProbe = broker(b).ReadinessProbe.DeepCopy() },
			"would restart every broker"},
		{"probe through a shell", func(b *bundle) {
			broker(b).LivenessProbe.Exec.Command = []string{"sh", "-c", "klassik healthcheck --bootstrap-server 127.0.0.1:9092"}
		}, "the image has no shell"},
		{"probe timeout too short", func(b *bundle) { broker(b).StartupProbe.TimeoutSeconds = 5 }, "must exceed --timeout-ms"},
		{"PDB selects nothing", func(b *bundle) { b.pdbs["klassik"].Spec.Selector.MatchLabels["app.kubernetes.io/name"] = "kafka" },
			"want one PodDisruptionBudget"},
		{"PDB allows two", func(b *bundle) {
			two := intstr.FromInt32(2)
			b.pdbs["zookeeper"].Spec.MaxUnavailable = &two
		}, "want maxUnavailable 1"},
		{"two replicas", func(b *bundle) { two := int32(2); b.statefulSets[brokerSet].Spec.Replicas = &two }, "replicas must be 3"},
		{"ZooKeeper in order", func(b *bundle) { b.statefulSets[zkSet].Spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement },
			"must be Parallel"},
		{"ZooKeeper numbered from 0", func(b *bundle) { b.statefulSets[zkSet].Spec.Ordinals = nil }, "myid from 1 to 255"},
		{"ZOO_SERVERS names a fourth node", func(b *bundle) {
			ct := zk(b)
			setEnv(ct, "ZOO_SERVERS", envValue(ct, "ZOO_SERVERS")+" server.4=zookeeper-4.zookeeper-headless:2888:3888;2181")
		}, "ZOO_SERVERS lists"},
		{"ZooKeeper data on the container's disk", func(b *bundle) { zk(b).VolumeMounts = zk(b).VolumeMounts[1:] }, "/data is not on a persistent volume"},
		{"service links on", func(b *bundle) { b.statefulSets[brokerSet].Spec.Template.Spec.EnableServiceLinks = nil }, "enableServiceLinks"},
		{"short grace period", func(b *bundle) {
			thirty := int64(30)
			b.statefulSets[brokerSet].Spec.Template.Spec.TerminationGracePeriodSeconds = &thirty
		}, "terminationGracePeriodSeconds"},
		{"no fsGroup", func(b *bundle) { b.statefulSets[brokerSet].Spec.Template.Spec.SecurityContext.FSGroup = nil }, "fsGroup"},
		{"fault injection on", func(b *bundle) { setEnv(broker(b), "KAFKA_KLASSIK_FAULTS_ENABLE", "true") }, "klassik.faults.enable"},
		{"another image", func(b *bundle) { broker(b).Image = "klassik:latest" }, "docker-compose.yml builds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, _, img, cf := load(t)
			tc.mutate(b)
			errs := check(b, img, cf)
			for _, err := range errs {
				if strings.Contains(err.Error(), tc.want) {
					return
				}
			}
			t.Errorf("no error containing %q; got %v", tc.want, errs)
		})
	}
}

// Strict decoding: a misspelt field or a value of the wrong type is an error, as the API
// server would refuse it, not a field silently dropped.
func TestStrictDecoding(t *testing.T) {
	good := "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  clusterIP: None\n"
	if err := newBundle().decode("good.yaml", []byte("# comment only\n---\n"+good)); err != nil {
		t.Fatalf("a valid Service: %v", err)
	}
	for name, doc := range map[string]string{
		"unknown field":  "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: s\nspec:\n  replica: 3\n",
		"wrong type":     "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: s\nspec:\n  replicas: \"3\"\n",
		"duplicate key":  good + "  clusterIP: None\n",
		"unknown kind":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
		"PDB typo":       "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: p\nspec:\n  maxUnavailble: 1\n",
		"no name":        "apiVersion: v1\nkind: Service\nspec:\n  clusterIP: None\n",
		"probe misplace": "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: s\nspec:\n  template:\n    spec:\n      readinessProbe: {}\n",
	} {
		if err := newBundle().decode(name+".yaml", []byte(doc)); err == nil {
			t.Errorf("%s: decoded without an error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// The readiness probe's command, run by the real healthcheck tool against a stand-in for
// the broker's /healthz: healthy on 200, unhealthy on the 503 a broker outside the
// controller's metadata answers.
func TestReadinessProbeRunsTheRealTool(t *testing.T) {
	b, _, _, _ := load(t)
	probe := container(&b.statefulSets[brokerSet].Spec.Template.Spec, brokerContainer).ReadinessProbe
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		if status != http.StatusOK {
			http.Error(w, "not yet in the controller's metadata", status)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	args := slices.Clone(probe.Exec.Command[2:])
	replaced := false
	for i, a := range args {
		if u, err := url.Parse(a); err == nil && u.Scheme == "http" && u.Host != "" {
			u.Host = target.Host // the broker's port here is the test server's
			args[i], replaced = u.String(), true
		}
	}
	if !replaced {
		t.Fatalf("readiness probe %q has no URL", probe.Exec.Command)
	}
	if code, out := runTool("healthcheck", args); code != 0 || !strings.Contains(out, "healthy") {
		t.Errorf("healthcheck %q on a 200: exit %d, %s", args, code, out)
	}
	status = http.StatusServiceUnavailable
	if code, out := runTool("healthcheck", args); code != 1 || !strings.Contains(out, "unhealthy") {
		t.Errorf("healthcheck %q on a 503: exit %d, %s", args, code, out)
	}
}

// On a cluster older than Kubernetes 1.28 the pod-index label is missing: the broker must
// refuse to start, naming the variable, rather than come up with some id.
func TestBrokerWithoutPodIndexLabelRefusesToStart(t *testing.T) {
	b, _, img, _ := load(t)
	sts := b.statefulSets[brokerSet]
	pod := podFor(sts, 1, testNamespace, "")
	delete(pod.Labels, appsv1.PodIndexLabel)
	c := &checker{}
	if cfg := c.brokerConfig(pod, container(&pod.Spec, brokerContainer), img); cfg != nil {
		t.Fatalf("the broker started with broker.id %d", cfg.BrokerID)
	}
	if len(c.errs) != 1 || !strings.Contains(c.errs[0].Error(), `broker.id = "": must be an integer (from environment variable KAFKA_BROKER_ID)`) {
		t.Errorf("want one error saying KAFKA_BROKER_ID is empty, got %v", c.errs)
	}
}

// docker/zookeeper's entrypoint (the official image's contract, reimplemented for the
// stand-in) turns each pod's environment into a zoo.cfg listing the three nodes and a myid.
func TestZooKeeperEntrypointWritesTheEnsemble(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	b, _, _, _ := load(t)
	sts := b.statefulSets[zkSet]
	ct := container(&sts.Spec.Template.Spec, zkContainer)
	var want []string
	var pods []*corev1.Pod
	for _, o := range ordinals(sts) {
		pod := podFor(sts, o, testNamespace, "")
		pods = append(pods, pod)
		want = append(want, "server."+pod.Labels[appsv1.PodIndexLabel]+"="+fqdn(pod)+":2888:3888;2181")
	}
	for _, pod := range pods {
		environ, env, err := containerEnv(pod, ct)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		for _, d := range []string{"conf", "data", "datalog"} {
			if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(bash, filepath.Join(repoRoot, "docker/zookeeper/docker-entrypoint.sh"), "true")
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"),
			"ZOO_CONF_DIR=" + dir + "/conf", "ZOO_DATA_DIR=" + dir + "/data", "ZOO_DATA_LOG_DIR=" + dir + "/datalog",
			"ZOO_AUTOPURGE_SNAPRETAINCOUNT=3", "ZOO_MAX_CLIENT_CNXNS=60"}, environ...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pod %s: entrypoint: %v\n%s", pod.Name, err, out)
		}
		cfg, err := os.ReadFile(filepath.Join(dir, "conf/zoo.cfg"))
		if err != nil {
			t.Fatal(err)
		}
		var servers []string
		props := map[string]string{}
		for _, line := range strings.Split(string(cfg), "\n") {
			if strings.HasPrefix(line, "server.") {
				servers = append(servers, line)
			} else if k, v, ok := strings.Cut(line, "="); ok {
				props[k] = v
			}
		}
		if !slices.Equal(servers, want) {
			t.Errorf("pod %s: zoo.cfg servers\n%s\nwant\n%s", pod.Name, strings.Join(servers, "\n"), strings.Join(want, "\n"))
		}
		if props["quorumListenOnAllIPs"] != "true" || props["standaloneEnabled"] != "false" || props["4lw.commands.whitelist"] == "" {
			t.Errorf("pod %s: zoo.cfg %v: want quorumListenOnAllIPs=true, standaloneEnabled=false and the four-letter words the probes use", pod.Name, props)
		}
		if !strings.Contains(props["4lw.commands.whitelist"], "srvr") || !strings.Contains(props["4lw.commands.whitelist"], "ruok") {
			t.Errorf("pod %s: the probes use srvr and ruok; 4lw.commands.whitelist = %q", pod.Name, props["4lw.commands.whitelist"])
		}
		myid, _ := os.ReadFile(filepath.Join(dir, "data/myid"))
		if strings.TrimSpace(string(myid)) != env["ZOO_MY_ID"] || env["ZOO_MY_ID"] != pod.Labels[appsv1.PodIndexLabel] {
			t.Errorf("pod %s: myid %q, ZOO_MY_ID %q, pod index %s", pod.Name, myid, env["ZOO_MY_ID"], pod.Labels[appsv1.PodIndexLabel])
		}
	}
}

// The $(VAR) expansion the simulation relies on, on the cases Kubernetes documents.
func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "x", "B": ""}
	for in, want := range map[string]string{
		"$(A).y":       "x.y",
		"$(B)z":        "z",
		"$(C)":         "$(C)",
		"$$(A)":        "$(A)",
		"$A $":         "$A $",
		"a$(A)b$(A)c":  "axbxc",
		"$(A":          "$(A",
		"p://$(A):9/q": "p://x:9/q",
	} {
		if got := expand(in, vars); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}
