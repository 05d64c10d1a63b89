package compose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// growCluster runs the README's "Growing the cluster" block as a user would after `make up`:
// compose starts kafka4 (profile grow), reassign-partitions spreads quickstart-events over
// brokers 1 to 4. Checked: four brokers in Metadata, every partition completed and broker 4
// among the replicas, and the README's claims about the output. Then kafka4 is stopped, so
// the rest of the smoke test sees the three brokers of `make up`.
func growCluster(t *testing.T, ctx context.Context, root string, env map[string]string, adm *kadm.Client) {
	t.Helper()
	if _, err := adm.CreateTopic(ctx, 3, 3, nil, "quickstart-events"); err != nil && !strings.Contains(err.Error(), "TOPIC_ALREADY_EXISTS") {
		t.Fatalf("creating quickstart-events: %v", err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok1 := strings.Cut(string(readme), "<!-- grow:begin -->")
	section, _, ok2 := strings.Cut(rest, "<!-- grow:end -->")
	_, block, ok3 := strings.Cut(section, "```sh\n")
	block, _, ok4 := strings.Cut(block, "```")
	if !ok1 || !ok2 || !ok3 || !ok4 {
		t.Fatal("README.md has no sh block between <!-- grow:begin --> and <!-- grow:end -->")
	}
	script := strings.NewReplacer(
		"docker compose ", "compose ",
		"bin/klassik", filepath.Join(root, "bin", "klassik"),
		"localhost:9092", "127.0.0.1:"+env["KLASSIK_KAFKA1_PORT"],
		"localhost:9095", "127.0.0.1:"+env["KLASSIK_KAFKA4_PORT"],
	).Replace(block)
	dir := t.TempDir()
	out, err := run(dir, env, 5*time.Minute, "bash", "-euo", "pipefail", "-c",
		fmt.Sprintf(". %q && compose_cmd\n%s", filepath.Join(root, "scripts", "compose-lib.sh"), script))
	t.Logf("README's growing-the-cluster block:\n%s", out)
	if err != nil {
		t.Fatalf("the README's growing-the-cluster block failed: %v", err)
	}
	for p := 0; p < 3; p++ {
		if line := fmt.Sprintf("Reassignment of partition quickstart-events-%d is completed.", p); !strings.Contains(out, line) {
			t.Errorf("the block's output lacks %q", line)
		}
	}
	md, err := adm.Metadata(ctx, "quickstart-events")
	if err != nil {
		t.Fatal(err)
	}
	if ids := md.Brokers.NodeIDs(); len(ids) != 4 {
		t.Fatalf("brokers after growing: %v", ids)
	}
	onFour := 0
	for _, p := range md.Topics["quickstart-events"].Partitions {
		if slices.Contains(p.Replicas, 4) {
			onFour++
		}
	}
	if onFour == 0 {
		t.Fatalf("no partition of quickstart-events has a replica on broker 4: %+v", md.Topics["quickstart-events"].Partitions)
	}

	if out, err := run(root, env, 3*time.Minute, "bash", "-c", `. scripts/compose-lib.sh && compose_cmd && compose --profile grow stop kafka4`); err != nil {
		t.Fatalf("compose stop kafka4: %v\n%s", err, out)
	}
	waitFor(t, ctx, 60*time.Second, "broker 4 gone from Metadata", func(ctx context.Context) (struct{}, error) {
		md, err := adm.BrokerMetadata(ctx)
		if err != nil {
			return struct{}{}, err
		}
		if ids := md.Brokers.NodeIDs(); slices.Contains(ids, 4) {
			return struct{}{}, fmt.Errorf("brokers %v", ids)
		}
		return struct{}{}, nil
	})
}
