package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/go-zookeeper/zk"
)

// ZNode is GET /api/zk?path=/x: one znode, decoded, with what it means in Kafka.
type ZNode struct {
	Path     string          `json:"path"`
	Exists   bool            `json:"exists"`
	JSON     json.RawMessage `json:"json,omitempty"` // the data, when it is JSON
	Text     string          `json:"text,omitempty"` // the data otherwise (UTF-8 only)
	Stat     *ZStat          `json:"stat,omitempty"`
	Children []string        `json:"children"`
	Meaning  string          `json:"meaning"`
}

// ZStat is the part of a znode's stat that Kafka gives a meaning to.
type ZStat struct {
	Czxid          int64  `json:"czxid"`
	Mzxid          int64  `json:"mzxid"`
	Ctime          int64  `json:"ctime"`
	Mtime          int64  `json:"mtime"`
	Version        int32  `json:"version"`
	Cversion       int32  `json:"cversion"`
	EphemeralOwner string `json:"ephemeral_owner"`
	DataLength     int32  `json:"data_length"`
	NumChildren    int32  `json:"num_children"`
}

// meanings maps Kafka's znode paths to one sentence each, most specific first.
var meanings = []struct {
	re   *regexp.Regexp
	text string
}{
	{regexp.MustCompile(`^/$`), "The root of Kafka's data in ZooKeeper (the chroot of zookeeper.connect)."},
	{regexp.MustCompile(`^/brokers$`), "Brokers and topics: who is alive and where every partition lives."},
	{regexp.MustCompile(`^/brokers/ids$`), "One ephemeral child per live broker; the controller watches these children to see brokers come and go."},
	{regexp.MustCompile(`^/brokers/ids/\d+$`), "This broker's registration: an ephemeral znode that lives exactly as long as the broker's ZooKeeper session (ephemeralOwner); its czxid is the broker epoch."},
	{regexp.MustCompile(`^/brokers/topics$`), "One child per topic; the controller watches it to learn of new topics."},
	{regexp.MustCompile(`^/brokers/topics/[^/]+$`), "The topic's replica assignment: for each partition, its replicas in preference order (the first is the preferred leader), and the topic id."},
	{regexp.MustCompile(`^/brokers/topics/[^/]+/partitions$`), "One child per partition of the topic."},
	{regexp.MustCompile(`^/brokers/topics/[^/]+/partitions/\d+$`), "The partition; its state lives in the child 'state'."},
	{regexp.MustCompile(`^/brokers/topics/[^/]+/partitions/\d+/state$`), "The partition's leader and ISR as the controller (or the leader, for ISR changes) last wrote them; its version (zkVersion) is the partition epoch that fences every conditional write."},
	{regexp.MustCompile(`^/brokers/seqid$`), "A sequence for generated broker ids."},
	{regexp.MustCompile(`^/controller$`), "Ephemeral: the broker that created it is the controller; when its session ends the znode vanishes and every broker races to create it again."},
	{regexp.MustCompile(`^/controller_epoch$`), "The controller epoch, raised by one at each election; its zkVersion fences every controller write, so a deposed controller's writes fail."},
	{regexp.MustCompile(`^/admin/delete_topics(/[^/]+)?$`), "Topics waiting for the controller to delete them."},
	{regexp.MustCompile(`^/admin/preferred_replica_election$`), "A pending preferred-leader election the controller will run."},
	{regexp.MustCompile(`^/admin/reassign_partitions$`), "A pending partition reassignment (the legacy path)."},
	{regexp.MustCompile(`^/admin$`), "Requests to the controller: topic deletions, reassignments, preferred-leader elections."},
	{regexp.MustCompile(`^/isr_change_notification(/.*)?$`), "Leaders write here when they change an ISR, so the controller tells every broker (UpdateMetadata)."},
	{regexp.MustCompile(`^/config/topics/[^/]+$`), "The topic's configuration overrides (retention.ms, min.insync.replicas, ...)."},
	{regexp.MustCompile(`^/config/changes(/.*)?$`), "Change notifications: brokers watch these to reload entity configs."},
	{regexp.MustCompile(`^/config(/.*)?$`), "Dynamic configuration per entity (topics, brokers, users, clients, ips)."},
	{regexp.MustCompile(`^/cluster/id$`), "The cluster id, written once by the first broker; every broker checks it at start."},
	{regexp.MustCompile(`^/cluster$`), "Cluster-wide identity."},
	{regexp.MustCompile(`^/latest_producer_id_block$`), "The last block of producer ids handed to a broker, for idempotent and transactional producers."},
	{regexp.MustCompile(`^/log_dir_event_notification(/.*)?$`), "A broker lost a log directory; the controller moves leadership of its partitions away."},
	{regexp.MustCompile(`^/feature$`), "Finalized feature versions of the cluster."},
	{regexp.MustCompile(`^/consumers$`), "Where pre-0.9 consumers kept offsets; modern groups keep them in __consumer_offsets."},
	{regexp.MustCompile(`^/kafka-acl.*`), "Access control lists."},
}

func meaningOf(p string) string {
	for _, m := range meanings {
		if m.re.MatchString(p) {
			return m.text
		}
	}
	return "Not one of Kafka's znodes that the classroom knows."
}

// maxZNodeBytes caps the data shown for one znode (ZooKeeper's own limit is 1 MB).
const maxZNodeBytes = 1 << 20

func (s *Server) serveZNode(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("path")
	if p == "" {
		p = "/"
	}
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p {
		http.Error(w, "path must be an absolute znode path such as /brokers/ids", http.StatusBadRequest)
		return
	}
	full := s.zk.chroot + p
	if p == "/" && s.zk.chroot != "" {
		full = s.zk.chroot
	}
	out := ZNode{Path: p, Meaning: meaningOf(p), Children: []string{}}
	data, st, err := s.zk.conn.Get(full)
	switch {
	case errors.Is(err, zk.ErrNoNode):
		writeJSON(w, out)
		return
	case err != nil:
		http.Error(w, fmt.Sprintf("ZooKeeper: %v", err), http.StatusServiceUnavailable)
		return
	}
	out.Exists = true
	out.Stat = &ZStat{Czxid: st.Czxid, Mzxid: st.Mzxid, Ctime: st.Ctime, Mtime: st.Mtime, Version: st.Version,
		Cversion: st.Cversion, EphemeralOwner: fmt.Sprintf("0x%x", st.EphemeralOwner), DataLength: st.DataLength,
		NumChildren: st.NumChildren}
	if len(data) > maxZNodeBytes {
		data = data[:maxZNodeBytes]
	}
	if len(data) > 0 {
		if json.Valid(data) {
			out.JSON = data
		} else if utf8.Valid(data) {
			out.Text = string(data)
		} else {
			out.Text = fmt.Sprintf("(%d bytes, not text)", len(data))
		}
	}
	if kids, _, err := s.zk.conn.Children(full); err == nil {
		sort.Strings(kids)
		out.Children = kids
	}
	writeJSON(w, out)
}
