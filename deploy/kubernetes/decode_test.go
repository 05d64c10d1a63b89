// Package kubernetes holds klassik's Kubernetes manifests and the test that checks them: no
// cluster is needed. The documents are decoded strictly with the Kubernetes API types, each
// StatefulSet's pods are made as the StatefulSet controller makes them, each container's
// environment is resolved as the kubelet resolves it, and the brokers' environment goes
// through klassik's own config loader, so what the test asserts is what a broker would read.
package kubernetes

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// bundle is every object of the manifests, by kind.
type bundle struct {
	statefulSets map[string]*appsv1.StatefulSet
	services     map[string]*corev1.Service
	pdbs         map[string]*policyv1.PodDisruptionBudget
	files        []string // the manifest files read, base names
}

func newBundle() *bundle {
	return &bundle{
		statefulSets: map[string]*appsv1.StatefulSet{},
		services:     map[string]*corev1.Service{},
		pdbs:         map[string]*policyv1.PodDisruptionBudget{},
	}
}

// kustomization is the part of kustomize's Kustomization these manifests use. It is decoded
// strictly as well: a field added to kustomization.yaml must be added here, and checked.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
	} `json:"images,omitempty"`
}

// loadDir reads kustomization.yaml and every manifest it lists.
func loadDir(dir string) (*bundle, *kustomization, error) {
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, nil, err
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		return nil, nil, fmt.Errorf("kustomization.yaml: %w", err)
	}
	b := newBundle()
	for _, f := range k.Resources {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, nil, fmt.Errorf("kustomization.yaml lists %s: %w", f, err)
		}
		if err := b.decode(f, data); err != nil {
			return nil, nil, err
		}
		b.files = append(b.files, f)
	}
	return b, &k, nil
}

// decode adds every document of one multi-document YAML file. A document is decoded with
// the API type of its apiVersion and kind, strictly: an unknown or duplicated field, or a
// value of the wrong type, is an error (kubectl would warn or the API server refuse).
func (b *bundle) decode(file string, data []byte) error {
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", file, n, err)
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", file, n, err)
		}
		if s := strings.TrimSpace(string(js)); s == "null" || s == "" {
			continue // only comments
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return fmt.Errorf("%s: document %d: %w", file, n, err)
		}
		where := fmt.Sprintf("%s: document %d (%s %s)", file, n, tm.APIVersion, tm.Kind)
		var name string
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 StatefulSet":
			o := &appsv1.StatefulSet{}
			if err := yaml.UnmarshalStrict(doc, o); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			name = o.Name
			if b.statefulSets[name] != nil {
				return fmt.Errorf("%s: a second StatefulSet %q", where, name)
			}
			b.statefulSets[name] = o
		case "v1 Service":
			o := &corev1.Service{}
			if err := yaml.UnmarshalStrict(doc, o); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			name = o.Name
			if b.services[name] != nil {
				return fmt.Errorf("%s: a second Service %q", where, name)
			}
			b.services[name] = o
		case "policy/v1 PodDisruptionBudget":
			o := &policyv1.PodDisruptionBudget{}
			if err := yaml.UnmarshalStrict(doc, o); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			name = o.Name
			if b.pdbs[name] != nil {
				return fmt.Errorf("%s: a second PodDisruptionBudget %q", where, name)
			}
			b.pdbs[name] = o
		default:
			return fmt.Errorf("%s: a kind this test does not know; decode and check it here", where)
		}
		if name == "" {
			return fmt.Errorf("%s: no metadata.name", where)
		}
	}
}

// ordinals are a StatefulSet's pod ordinals: spec.ordinals.start, and replicas from there.
func ordinals(sts *appsv1.StatefulSet) []int {
	start, n := 0, 1
	if sts.Spec.Ordinals != nil {
		start = int(sts.Spec.Ordinals.Start)
	}
	if sts.Spec.Replicas != nil {
		n = int(*sts.Spec.Replicas)
	}
	out := make([]int, n)
	for i := range out {
		out[i] = start + i
	}
	return out
}

// clusterDomain is the kubelet's default --cluster-domain, which the manifests assume.
const clusterDomain = "cluster.local"

// podFor makes the pod with this ordinal as the StatefulSet controller does (its
// newStatefulSetPod and initIdentity): the template, named <set>-<ordinal>, with the
// pod-name and pod-index labels, hostname = its name, subdomain = the set's serviceName.
// zone, if not "", is the topology.kubernetes.io/zone label the PodTopologyLabels admission
// copies from the node at binding.
func podFor(sts *appsv1.StatefulSet, ordinal int, namespace, zone string) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: *sts.Spec.Template.ObjectMeta.DeepCopy(),
		Spec:       *sts.Spec.Template.Spec.DeepCopy(),
	}
	pod.Name = fmt.Sprintf("%s-%d", sts.Name, ordinal)
	pod.Namespace = namespace
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.StatefulSetPodNameLabel] = pod.Name
	pod.Labels[appsv1.PodIndexLabel] = strconv.Itoa(ordinal)
	if zone != "" {
		pod.Labels[corev1.LabelTopologyZone] = zone
	}
	pod.Spec.Hostname = pod.Name
	pod.Spec.Subdomain = sts.Spec.ServiceName
	pod.Spec.NodeName = "node-" + strconv.Itoa(ordinal)
	return pod
}

// fqdn is the pod's stable DNS name under its headless Service.
func fqdn(pod *corev1.Pod) string {
	return pod.Spec.Hostname + "." + pod.Spec.Subdomain + "." + pod.Namespace + ".svc." + clusterDomain
}

// containerEnv resolves a container's env as the kubelet does (makeEnvironmentVariables):
// in order, a plain value with $(VAR) expanded from the variables above it, a valueFrom
// fieldRef read from the pod. Other sources (Secrets, ConfigMaps, envFrom) are not
// simulated: a manifest that uses one must extend this. The result is in os.Environ form
// and also as a map.
func containerEnv(pod *corev1.Pod, c *corev1.Container) ([]string, map[string]string, error) {
	if len(c.EnvFrom) > 0 {
		return nil, nil, fmt.Errorf("container %s: envFrom is not simulated by this test", c.Name)
	}
	vals := map[string]string{}
	var order []string
	for _, e := range c.Env {
		var v string
		switch {
		case e.ValueFrom == nil:
			v = expand(e.Value, vals)
		case e.ValueFrom.FieldRef != nil:
			var err error
			if v, err = fieldValue(pod, e.ValueFrom.FieldRef.FieldPath); err != nil {
				return nil, nil, fmt.Errorf("container %s: env %s: %w", c.Name, e.Name, err)
			}
		default:
			return nil, nil, fmt.Errorf("container %s: env %s: only value and valueFrom.fieldRef are simulated by this test", c.Name, e.Name)
		}
		if _, seen := vals[e.Name]; !seen {
			order = append(order, e.Name)
		}
		vals[e.Name] = v
	}
	environ := make([]string, 0, len(order))
	for _, k := range order {
		environ = append(environ, k+"="+vals[k])
	}
	return environ, vals, nil
}

// fieldValue is the downward API's value of a fieldRef path for env (the paths it allows
// there); a label or annotation that is absent gives "".
func fieldValue(pod *corev1.Pod, path string) (string, error) {
	if k, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[k], nil
	}
	if k, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[k], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	}
	return "", fmt.Errorf("fieldRef %q is not simulated by this test (or not allowed in env)", path)
}

// subscript reads "prefix['key']".
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok || !strings.HasSuffix(rest, "']") {
		return "", false
	}
	return strings.TrimSuffix(rest, "']"), true
}

// expand is Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): $(NAME)
// becomes the variable's value when it is in vars and stays as written when it is not;
// $$ is a literal $; any other $ is itself.
func expand(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// staticEnv is what the kubelet expands in a probe's exec command
// (ExpandContainerCommandOnlyStatic): only plain values, and a valueFrom variable as "".
func staticEnv(c *corev1.Container) map[string]string {
	vals := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			vals[e.Name] = e.Value
		} else {
			vals[e.Name] = ""
		}
	}
	return vals
}

// container is the named container of a pod spec.
func container(spec *corev1.PodSpec, name string) *corev1.Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	return nil
}

// containerPort is the port of the container's port with this number, if it declares one.
func containerPort(c *corev1.Container, port int32) (corev1.ContainerPort, bool) {
	for _, p := range c.Ports {
		if p.ContainerPort == port {
			return p, true
		}
	}
	return corev1.ContainerPort{}, false
}

// sortedKeys lists a map's keys in order, for messages that do not change from run to run.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
