package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// delete-records mirrors kafka-delete-records.sh (Kafka's org.apache.kafka.tools.DeleteRecordsCommand):
// it moves the log start offset (the low watermark) of partitions up to the offsets a JSON
// file gives, through DeleteRecords, and prints each partition's new low watermark:
//
//	klassik delete-records --bootstrap-server B --offset-json-file F
//
// F is {"partitions":[{"topic":"foo","partition":1,"offset":1}],"version":1}; an offset of
// -1 means the high watermark.

func deleteRecordsFlags() *flagSet {
	fs := newFlagSet("delete-records", "This tool helps to delete records of the given partitions down to the specified offset (kafka-delete-records.sh).")
	fs.Value("bootstrap-server", "server(s) to use for bootstrapping", "", "REQUIRED: The server to connect to.")
	fs.Value("offset-json-file", "Offset json file path", "", `REQUIRED: The JSON file with offset per partition. The format to use is: {"partitions": [{"topic": "foo", "partition": 1, "offset": 1}], "version":1}`)
	fs.Value("command-config", "command config property file path", "", "A property file containing configs to be passed to Admin Client (klassik reads its security properties).")
	return fs
}

// recordsToDelete is one partition of the offset JSON file.
type recordsToDelete struct {
	tp
	Offset int64
}

// parseOffsetJSON reads the offset JSON file as DeleteRecordsCommand.parseOffsetJsonStringWithoutDedup
// does and refuses duplicate partitions.
func parseOffsetJSON(text string) ([]recordsToDelete, error) {
	var doc map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, errors.New("The input string is not a valid JSON")
	}
	version := 1
	if v, ok := doc["version"]; ok {
		if err := json.Unmarshal(v, &version); err != nil {
			return nil, fmt.Errorf("Expected `version` to be an int, but was %s", v)
		}
	}
	if version != 1 {
		return nil, fmt.Errorf("Not supported version field value %d", version)
	}
	raw, ok := doc["partitions"]
	if !ok {
		return nil, errors.New("Missing partitions field")
	}
	var entries []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("Expected `partitions` to be an array of objects: %v", err)
	}
	var out []recordsToDelete
	seen := map[tp]int{}
	var dups []tp
	for _, e := range entries {
		var r recordsToDelete
		for _, f := range []struct {
			name string
			dst  any
			kind string
		}{{"topic", &r.Topic, "a string"}, {"partition", &r.Partition, "an int"}, {"offset", &r.Offset, "a long"}} {
			v, ok := e[f.name]
			if !ok {
				return nil, fmt.Errorf("No such field exists: `%s`", f.name)
			}
			if err := json.Unmarshal(v, f.dst); err != nil {
				return nil, fmt.Errorf("Expected `%s` to be %s, but was %s", f.name, f.kind, v)
			}
		}
		if seen[r.tp]++; seen[r.tp] == 2 {
			dups = append(dups, r.tp)
		}
		out = append(out, r)
	}
	if len(dups) > 0 {
		sortTPs(dups)
		return nil, fmt.Errorf("Offset json file contains duplicate topic partitions: %s", joinTPs(dups, ","))
	}
	return out, nil
}

func runDeleteRecords(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := deleteRecordsFlags()
	return run(fs, args, stdout, stderr, func() error {
		if err := fs.requireGiven("bootstrap-server", "offset-json-file"); err != nil {
			return err
		}
		b, err := os.ReadFile(fs.byName["offset-json-file"].str())
		if err != nil {
			return err
		}
		recs, err := parseOffsetJSON(string(b))
		if err != nil {
			return err
		}
		return withAdmin(fs.byName["bootstrap-server"].str(), fs.clientOpts, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error {
			offs := kadm.Offsets{}
			for _, r := range recs {
				offs.Add(kadm.Offset{Topic: r.Topic, Partition: r.Partition, At: r.Offset, LeaderEpoch: -1})
			}
			fmt.Fprintln(stdout, "Executing records delete operation")
			res, err := adm.DeleteRecords(ctx, offs)
			if err != nil && len(res) == 0 {
				return fmt.Errorf("Error: %v", rootCause(err))
			}
			fmt.Fprintln(stdout, "Records delete operation completed:")
			printDeleteRecords(stdout, recs, res)
			return nil
		})
	})
}

// printDeleteRecords prints one line per partition asked for, in topic and partition order.
func printDeleteRecords(w io.Writer, recs []recordsToDelete, res kadm.DeleteRecordsResponses) {
	var parts []tp
	for _, r := range recs {
		parts = append(parts, r.tp)
	}
	sortTPs(parts)
	for _, p := range parts {
		r, ok := res.Lookup(p.Topic, p.Partition)
		switch {
		case !ok:
			fmt.Fprintf(w, "partition: %s\terror: %s\n", p, "org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.")
		case r.Err != nil:
			fmt.Fprintf(w, "partition: %s\terror: %s\n", p, javaError(r.Err, nil))
		default:
			fmt.Fprintf(w, "partition: %s\tlow_watermark: %d\n", p, r.LowWatermark)
		}
	}
}
