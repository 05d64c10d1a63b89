package tools

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// healthcheck has no Kafka counterpart: it is a probe for container healthchecks (a FROM
// scratch image has no shell, nc or curl). It exits 0 when the broker answers a Metadata
// request within --timeout-ms and, with --broker-id, lists that broker among the live ones;
// with --http URL instead, when a GET of URL answers 2xx within --timeout-ms (the classroom's
// /healthz, say). Otherwise it prints one line saying why and exits 1.

func healthcheckFlags() *flagSet {
	fs := newFlagSet("healthcheck", "Exit 0 if a broker answers a Metadata request (for container healthchecks).")
	fs.Value("bootstrap-server", "String: server to connect to", "", "REQUIRED (unless --http): The server(s) to ask.")
	fs.Value("http", "String: URL", "", "Instead of a broker, GET this URL and require a 2xx answer (e.g. http://127.0.0.1:8080/healthz).")
	fs.Value("broker-id", "Integer: id", "", "Also require this broker id to be listed in the metadata.")
	fs.Value("timeout-ms", "Integer: ms", "5000", "How long to wait for the answer.")
	return fs
}

func runHealthcheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := healthcheckFlags()
	return run(fs, args, stdout, stderr, func() error {
		ms, err := fs.byName["timeout-ms"].integer()
		if err != nil {
			return err
		}
		if h := fs.byName["http"]; h.given {
			if fs.byName["bootstrap-server"].given || fs.byName["broker-id"].given {
				return fmt.Errorf("--http checks a URL: it takes neither --bootstrap-server nor --broker-id")
			}
			return httpHealth(h.str(), time.Duration(ms)*time.Millisecond, stdout)
		}
		if err := fs.requireGiven("bootstrap-server"); err != nil {
			return err
		}
		want := int64(-1)
		if b := fs.byName["broker-id"]; b.given {
			if want, err = b.integer(); err != nil {
				return err
			}
		}
		bootstrap := fs.byName["bootstrap-server"].str()
		timeout := time.Duration(ms) * time.Millisecond
		cl, err := kgo.NewClient(kgo.SeedBrokers(splitServers(bootstrap)...), kgo.DialTimeout(timeout), kgo.RetryTimeout(timeout), kgo.ClientID("klassik-healthcheck"))
		if err != nil {
			return fmt.Errorf("unhealthy: %v", err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req := kmsg.NewPtrMetadataRequest()
		req.Topics = []kmsg.MetadataRequestTopic{}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return fmt.Errorf("unhealthy: no Metadata answer from %s within %s: %v", bootstrap, timeout, rootCause(err))
		}
		if want >= 0 {
			for _, b := range resp.Brokers {
				if int64(b.NodeID) == want {
					fmt.Fprintf(stdout, "healthy: broker %d is listed by %s\n", want, bootstrap)
					return nil
				}
			}
			return fmt.Errorf("unhealthy: broker %d is not among the %d live brokers listed by %s", want, len(resp.Brokers), bootstrap)
		}
		fmt.Fprintf(stdout, "healthy: %s answered with %d live brokers\n", bootstrap, len(resp.Brokers))
		return nil
	})
}

// httpHealth is healthcheck --http: one GET, healthy on a 2xx answer.
func httpHealth(url string, timeout time.Duration, stdout io.Writer) error {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("--http wants an http:// or https:// URL, not %q", url)
	}
	cl := &http.Client{Timeout: timeout}
	resp, err := cl.Get(url)
	if err != nil {
		return fmt.Errorf("unhealthy: GET %s: %v", url, rootCause(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	line := strings.TrimSpace(strings.SplitN(string(body), "\n", 2)[0])
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("unhealthy: GET %s answered %s: %s", url, resp.Status, line)
	}
	fmt.Fprintf(stdout, "healthy: GET %s answered %s: %s\n", url, resp.Status, line)
	return nil
}
