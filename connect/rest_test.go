package connect

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// A Worker with connectors registered and no tasks running answers the REST API as Kafka's.
func TestRESTAnswers(t *testing.T) {
	w := NewWorker(&WorkerConfig{}, "127.0.0.1:8083", "clusterid", nil, zerolog.Nop())
	w.connectors["local-file-source"] = &connector{
		cfg:    &ConnectorConfig{Name: "local-file-source", Type: "source", Raw: map[string]string{"name": "local-file-source", "connector.class": "FileStreamSource", "file": "test.txt", "topic": "connect-test"}},
		status: status{state: StateRunning},
		tasks:  []*task{{id: 0, class: "org.apache.kafka.connect.file.FileStreamSourceTask", status: status{state: StateRunning}}},
	}
	w.connectors["local-file-sink"] = &connector{
		cfg:    &ConnectorConfig{Name: "local-file-sink", Type: "sink", Raw: map[string]string{"name": "local-file-sink"}},
		status: status{state: StateRunning},
		tasks:  []*task{{id: 0, status: status{state: StateFailed, trace: "boom"}}},
	}
	srv, err := NewRESTServer([]Listener{{Host: "127.0.0.1", Port: 0}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve(w)
	defer srv.Shutdown(t.Context())
	base := "http://" + srv.Addrs()[0].String()
	for _, c := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/connectors", 200, `["local-file-sink","local-file-source"]`},
		{"GET", "/connectors/local-file-source/status", 200,
			`{"name":"local-file-source","connector":{"state":"RUNNING","worker_id":"127.0.0.1:8083"},"tasks":[{"id":0,"state":"RUNNING","worker_id":"127.0.0.1:8083"}],"type":"source"}`},
		{"GET", "/connectors/local-file-sink/status", 200,
			`{"name":"local-file-sink","connector":{"state":"RUNNING","worker_id":"127.0.0.1:8083"},"tasks":[{"id":0,"state":"FAILED","worker_id":"127.0.0.1:8083","trace":"boom"}],"type":"sink"}`},
		{"GET", "/connectors/local-file-source", 200,
			`{"name":"local-file-source","config":{"connector.class":"FileStreamSource","file":"test.txt","name":"local-file-source","topic":"connect-test"},"tasks":[{"connector":"local-file-source","task":0}],"type":"source"}`},
		{"GET", "/connectors/local-file-source/config", 200, `{"connector.class":"FileStreamSource","file":"test.txt","name":"local-file-source","topic":"connect-test"}`},
		{"GET", "/connectors/local-file-source/tasks", 200,
			`[{"id":{"connector":"local-file-source","task":0},"config":{"connector.class":"FileStreamSource","file":"test.txt","name":"local-file-source","task.class":"org.apache.kafka.connect.file.FileStreamSourceTask","topic":"connect-test"}}]`},
		{"GET", "/connectors/local-file-source/tasks/0/status", 200, `{"id":0,"state":"RUNNING","worker_id":"127.0.0.1:8083"}`},
		{"GET", "/connectors/local-file-source/tasks/7/status", 404, `{"error_code":404,"message":"Status for task local-file-source-7 not found"}`},
		{"GET", "/connectors/nope/status", 404, `{"error_code":404,"message":"Connector nope not found"}`},
		{"GET", "/connectors/nope", 404, `{"error_code":404,"message":"Connector nope not found"}`},
		{"GET", "/nowhere", 404, `{"error_code":404,"message":"HTTP 404 Not Found"}`},
		{"DELETE", "/connectors/local-file-source", 405, `{"error_code":405,"message":"HTTP 405 Method Not Allowed"}`},
		{"GET", "/connector-plugins", 200,
			`[{"class":"org.apache.kafka.connect.file.FileStreamSinkConnector","type":"sink","version":"3.6.2"},{"class":"org.apache.kafka.connect.file.FileStreamSourceConnector","type":"source","version":"3.6.2"}]`},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || string(b) != c.body || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %s\nwant %d %s", c.method, c.path, resp.StatusCode, b, c.code, c.body)
		}
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(b), `{"version":"3.6.2","commit":"`) || !strings.HasSuffix(string(b), `","kafka_cluster_id":"clusterid"}`) {
		t.Fatalf("GET /: %s", b)
	}
	resp, err = http.Get(base + "/connectors?expand=status")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"local-file-source":{"status":{"name":"local-file-source"`) {
		t.Fatalf("expand=status: %s", b)
	}
}

func TestRESTBindError(t *testing.T) {
	srv, err := NewRESTServer([]Listener{{Host: "127.0.0.1", Port: 0}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(t.Context())
	port := srv.Addrs()[0].String()
	_, err = NewRESTServer([]Listener{{Host: "127.0.0.1", Port: 0}, {Host: "127.0.0.1", Port: atoiPort(port)}}, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "listeners") {
		t.Fatalf("a busy port: %v", err)
	}
}

func atoiPort(addr string) int {
	n := 0
	for _, c := range addr[strings.LastIndexByte(addr, ':')+1:] {
		n = n*10 + int(c-'0')
	}
	return n
}
