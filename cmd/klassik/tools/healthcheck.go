package tools

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// healthcheck has no Kafka counterpart: it is a probe for container healthchecks (a FROM
// scratch image has no shell or nc). It exits 0 when the broker answers a Metadata request
// within --timeout-ms and, with --broker-id, lists that broker among the live ones; otherwise
// it prints one line saying why and exits 1.

func healthcheckFlags() *flagSet {
	fs := newFlagSet("healthcheck", "Exit 0 if a broker answers a Metadata request (for container healthchecks).")
	fs.Value("bootstrap-server", "String: server to connect to", "", "REQUIRED: The server(s) to ask.")
	fs.Value("broker-id", "Integer: id", "", "Also require this broker id to be listed in the metadata.")
	fs.Value("timeout-ms", "Integer: ms", "5000", "How long to wait for the answer.")
	return fs
}

func runHealthcheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := healthcheckFlags()
	return run(fs, args, stdout, stderr, func() error {
		if err := fs.requireGiven("bootstrap-server"); err != nil {
			return err
		}
		ms, err := fs.byName["timeout-ms"].integer()
		if err != nil {
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
