package kubernetes

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/klassik/klassik/conf"
	"github.com/klassik/klassik/zkclient"
)

// The README's sections on deployment say what these manifests and klassik's config do;
// these tests keep them true.

// readmeSection is the text of the README from the heading "## title" to the next "## ".
func readmeSection(t *testing.T, title string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	i := strings.Index(text, "\n## "+title+"\n")
	if i < 0 {
		t.Fatalf("README.md has no section %q", title)
	}
	text = text[i+1:]
	if j := strings.Index(text[3:], "\n## "); j >= 0 {
		text = text[:j+3]
	}
	return text
}

// fenced returns the bodies of the ```lang blocks of text.
func fenced(text, lang string) []string {
	re := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```")
	var out []string
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// The several-hosts section's server.toml is one klassik loads, and it agrees with its zoo.cfg:
// zookeeper.connect names the hosts of the server.N lines on the clientPort, and the broker
// advertises one of those hosts.
func TestREADMESeveralHosts(t *testing.T) {
	sec := readmeSection(t, "A cluster on several hosts")
	tomls, cfgs := fenced(sec, "toml"), fenced(sec, "properties")
	if len(tomls) != 1 || len(cfgs) != 1 {
		t.Fatalf("want one server.toml and one zoo.cfg block, have %d and %d", len(tomls), len(cfgs))
	}
	path := filepath.Join(t.TempDir(), "server.toml")
	if err := os.WriteFile(path, []byte(tomls[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := conf.Load(path, nil, nil)
	if err != nil {
		t.Fatalf("the README's server.toml does not load: %v", err)
	}

	zoo := map[string]string{}
	var quorum []string
	for _, line := range strings.Split(cfgs[0], "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if strings.HasPrefix(k, "server.") {
			host, _, _ := strings.Cut(v, ":")
			quorum = append(quorum, host+":"+zoo["clientPort"])
			continue
		}
		zoo[k] = v
	}
	if len(quorum) != 3 || zoo["dataDir"] == "" || zoo["clientPort"] == "" {
		t.Fatalf("zoo.cfg: want three server.N lines after dataDir and clientPort, have %v %v", quorum, zoo)
	}
	if !strings.Contains(sec, "> "+zoo["dataDir"]+"/myid") {
		t.Errorf("the README does not say to write myid into dataDir %s", zoo["dataDir"])
	}
	servers, chroot, err := zkclient.ParseConnect(cfg.ZookeeperConnect)
	if err != nil || !slices.Equal(servers, quorum) || chroot == "" {
		t.Errorf("zookeeper.connect %q: want the ensemble %v and a chroot", cfg.ZookeeperConnect, quorum)
	}
	adv, err := cfg.AdvertisedListenerList()
	if err != nil {
		t.Fatal(err)
	}
	hosts := make([]string, len(quorum))
	for i, q := range quorum {
		hosts[i], _, _ = strings.Cut(q, ":")
	}
	if !slices.Contains(hosts, adv[0].Host) || cfg.BrokerRack == "" || cfg.BrokerID != 1 {
		t.Errorf("broker.id %d, rack %q, advertised %v: want broker 1 advertising host1 with a rack", cfg.BrokerID, cfg.BrokerRack, adv)
	}
	// The commands and the ports table name the same hosts and ports.
	for _, want := range []string{adv[0].Host + ":" + fmt.Sprint(adv[0].Port), hosts[0] + ":" + zoo["clientPort"] + chroot,
		"| " + zoo["clientPort"] + " |", "| 2888 |", "| 3888 |", "| " + fmt.Sprint(adv[0].Port) + " |"} {
		if !strings.Contains(sec, want) {
			t.Errorf("the section does not mention %q", want)
		}
	}
	_, mport, _ := strings.Cut(cfg.MetricsListener, ":")
	if !strings.Contains(sec, "| "+mport+" |") {
		t.Errorf("the ports table lacks metrics.listener's %s", mport)
	}
}

// The Kubernetes section applies this folder and runs its checks on pods that exist, with
// the probe command the manifest has.
func TestREADMEKubernetes(t *testing.T) {
	sec := readmeSection(t, "Kubernetes")
	b, _, _, _ := load(t)
	if !strings.Contains(sec, "kubectl apply -k deploy/kubernetes\n") {
		t.Error("the section does not apply deploy/kubernetes")
	}
	pods := map[string]bool{}
	for _, name := range sortedKeys(b.statefulSets) {
		for _, o := range ordinals(b.statefulSets[name]) {
			pods[fmt.Sprintf("%s-%d", name, o)] = true
		}
	}
	for _, m := range regexp.MustCompile(`kubectl (?:exec|delete pod) ([\w.-]+)`).FindAllStringSubmatch(sec, -1) {
		if !pods[m[1]] {
			t.Errorf("the README runs %q on pod %s, which the StatefulSets do not make (%v)", m[0], m[1], sortedKeys(pods))
		}
	}
	for _, m := range regexp.MustCompile(`statefulset/([\w.-]+)`).FindAllStringSubmatch(sec, -1) {
		if b.statefulSets[m[1]] == nil {
			t.Errorf("the README names statefulset/%s, which does not exist", m[1])
		}
	}
	ready := container(&b.statefulSets[brokerSet].Spec.Template.Spec, brokerContainer).ReadinessProbe.Exec.Command
	flat := strings.Join(strings.Fields(sec), " ")
	if want := "klassik " + strings.Join(ready[1:], " "); !strings.Contains(flat, want) {
		t.Errorf("the README's readiness probe is not the manifest's %q", want)
	}
}
