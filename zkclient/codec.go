package zkclient

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// This file is Kafka's ZkData: the JSON of every znode, written byte for byte as Kafka 3.x
// writes it (Jackson, key order of the Scala/Java map it serialises, see order.go), and read
// tolerantly, accepting what older Kafka versions wrote.

// ---- a tiny JSON writer that behaves like Jackson's default ObjectMapper ----

const hexDigits = "0123456789ABCDEF"

// jsonString quotes s as Jackson does: only '"', '\\' and control characters are escaped.
func jsonString(s string) []byte {
	var b bytes.Buffer
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&15])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.Bytes()
}

func jsonInt(n int64) []byte { return []byte(strconv.FormatInt(n, 10)) }

func jsonIntArray(xs []int32) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(int64(x), 10))
	}
	b.WriteByte(']')
	return b.Bytes()
}

func jsonArray(items [][]byte) []byte {
	return append(append([]byte{'['}, bytes.Join(items, []byte{','})...), ']')
}

func jsonObject(fs []field) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(f.k))
		b.WriteByte(':')
		b.Write(f.v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// ---- Kafka's Uuid ----

// TopicIDString is Kafka's Uuid.toString: URL-safe base64 without padding.
func TopicIDString(id [16]byte) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// ParseTopicID is Kafka's Uuid.fromString.
func ParseTopicID(s string) ([16]byte, error) {
	var id [16]byte
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(b) != 16 {
		return id, fmt.Errorf("zkclient: bad topic id %q", s)
	}
	copy(id[:], b)
	return id, nil
}

// ---- /controller, /controller_epoch ----

// encodeController is ControllerZNode.encode as Kafka 3.0-3.3 write it (version 1; 3.4+
// write version 2 with "kraftControllerEpoch":-1, which we read too).
func encodeController(brokerID int32, timestampMs int64) []byte {
	return jsonObject(orderScalaImmutable([]field{
		{"version", jsonInt(1)},
		{"brokerid", jsonInt(int64(brokerID))},
		{"timestamp", jsonString(strconv.FormatInt(timestampMs, 10))},
	}))
}

func decodeController(b []byte) (int32, error) {
	var v struct {
		BrokerID *int32 `json:"brokerid"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.BrokerID == nil {
		return -1, fmt.Errorf("zkclient: bad /controller data %q", b)
	}
	return *v.BrokerID, nil
}

func encodeControllerEpoch(epoch int32) []byte { return []byte(strconv.FormatInt(int64(epoch), 10)) }

func decodeControllerEpoch(b []byte) (int32, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("zkclient: bad /controller_epoch data %q", b)
	}
	return int32(n), nil
}

// ---- /brokers/ids/<id> ----

func formatAddress(host string, port int32) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(int(port))
	}
	return host + ":" + strconv.Itoa(int(port))
}

// encodeBroker is BrokerIdZNode.encode, version 5.
func encodeBroker(info BrokerInfo, timestampMs int64) []byte {
	eps := info.Endpoints
	if len(eps) == 0 && info.Host != "" {
		eps = []Endpoint{{ListenerName: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: info.Host, Port: info.Port}}
	}
	host, port := []byte("null"), int64(-1)
	for _, e := range eps {
		if e.protocol() == "PLAINTEXT" {
			host, port = jsonString(e.Host), int64(e.Port)
			break
		}
	}
	conn := make([][]byte, len(eps))
	var lspm []field // a Seq(...).toMap: later duplicates replace the value in place
	for i, e := range eps {
		conn[i] = jsonString(e.ConnectionString())
		dup := false
		for j := range lspm {
			if lspm[j].k == e.listener() {
				lspm[j].v, dup = jsonString(e.protocol()), true
			}
		}
		if !dup {
			lspm = append(lspm, field{e.listener(), jsonString(e.protocol())})
		}
	}
	jmx := int32(-1)
	if info.JmxPort > 0 {
		jmx = info.JmxPort
	}
	fs := []field{
		{"version", jsonInt(5)},
		{"host", host},
		{"port", jsonInt(port)},
		{"endpoints", jsonArray(conn)},
		{"jmx_port", jsonInt(int64(jmx))},
		{"timestamp", jsonString(strconv.FormatInt(timestampMs, 10))},
	}
	if info.Rack != "" {
		fs = append(fs, field{"rack", jsonString(info.Rack)})
	}
	fs = append(fs, field{"listener_security_protocol_map", jsonObject(orderScalaImmutable(lspm))})
	var feats []field
	names := make([]string, 0, len(info.Features))
	for k := range info.Features {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := []byte(info.Features[k])
		if !json.Valid(v) {
			v = jsonString(info.Features[k])
		}
		feats = append(feats, field{k, v})
	}
	fs = append(fs, field{"features", jsonObject(orderScalaImmutable(feats))})
	return jsonObject(orderScalaMutable(fs, scalaMutableTableLen(6, len(fs))))
}

// defaultListenerProtocols is SocketServerConfigs.DEFAULT_NAME_TO_SECURITY_PROTO, used when a
// registration has no listener_security_protocol_map (versions 2 and 3).
var defaultListenerProtocols = map[string]string{
	"PLAINTEXT": "PLAINTEXT", "SSL": "SSL", "SASL_PLAINTEXT": "SASL_PLAINTEXT", "SASL_SSL": "SASL_SSL",
}

// decodeBroker is BrokerIdZNode.decode: versions 1 to 5.
func decodeBroker(id int32, b []byte) (BrokerInfo, error) {
	var v struct {
		Version   *int32                     `json:"version"`
		Host      *string                    `json:"host"`
		Port      *int32                     `json:"port"`
		JmxPort   *int32                     `json:"jmx_port"`
		Timestamp json.RawMessage            `json:"timestamp"`
		Endpoints []string                   `json:"endpoints"`
		Rack      *string                    `json:"rack"`
		LSPM      map[string]string          `json:"listener_security_protocol_map"`
		Features  map[string]json.RawMessage `json:"features"`
	}
	bad := func(why string) (BrokerInfo, error) {
		return BrokerInfo{}, fmt.Errorf("zkclient: bad registration of broker %d (%s): %q", id, why, b)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return bad(err.Error())
	}
	if v.Version == nil || *v.Version < 1 {
		return bad("no or unsupported version")
	}
	info := BrokerInfo{ID: id, Version: *v.Version, Port: -1, JmxPort: -1}
	if v.Host != nil {
		info.Host = *v.Host
	}
	if v.Port != nil {
		info.Port = *v.Port
	}
	if v.JmxPort != nil {
		info.JmxPort = *v.JmxPort
	}
	if len(v.Timestamp) > 0 {
		var s string
		if json.Unmarshal(v.Timestamp, &s) != nil {
			s = string(v.Timestamp)
		}
		info.Timestamp, _ = strconv.ParseInt(s, 10, 64)
	}
	if v.Rack != nil {
		info.Rack = *v.Rack
	}
	if *v.Version == 1 {
		info.Endpoints = []Endpoint{{ListenerName: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: info.Host, Port: info.Port}}
	} else {
		protos := v.LSPM
		if protos == nil {
			protos = defaultListenerProtocols
		}
		for _, s := range v.Endpoints {
			e, err := parseEndpoint(s, protos)
			if err != nil {
				return bad(err.Error())
			}
			info.Endpoints = append(info.Endpoints, e)
		}
	}
	if len(v.Features) > 0 {
		info.Features = make(map[string]string, len(v.Features))
		for k, raw := range v.Features {
			info.Features[k] = string(raw)
		}
	}
	return info, nil
}

// parseEndpoint parses "LISTENER://host:port" ("[v6]:port" and ":port" too).
func parseEndpoint(s string, protos map[string]string) (Endpoint, error) {
	i := strings.Index(s, "://")
	if i <= 0 {
		return Endpoint{}, fmt.Errorf("bad endpoint %q", s)
	}
	name, hp := s[:i], s[i+3:]
	host, portStr, err := net.SplitHostPort(hp)
	if err != nil {
		return Endpoint{}, fmt.Errorf("bad endpoint %q: %v", s, err)
	}
	port, err := strconv.ParseInt(portStr, 10, 32)
	if err != nil {
		return Endpoint{}, fmt.Errorf("bad endpoint port %q", s)
	}
	proto, ok := protos[name]
	if !ok {
		return Endpoint{}, fmt.Errorf("no security protocol for listener %s", name)
	}
	return Endpoint{ListenerName: name, SecurityProtocol: proto, Host: host, Port: int32(port)}, nil
}

// ---- /brokers/topics/<t> ----

// encodeReplicaMap writes partition -> replicas as Kafka's mutable.Map[String, List[Int]].
func encodeReplicaMap(m map[int32][]int32) []byte {
	fs := make([]field, 0, len(m))
	for p, rs := range m {
		if len(rs) == 0 {
			continue
		}
		fs = append(fs, field{strconv.Itoa(int(p)), jsonIntArray(rs)})
	}
	return jsonObject(orderScalaMutable(fs, scalaMutableTableLen(0, len(fs))))
}

// encodeTopic is TopicZNode.encode (version 3).
func encodeTopic(a TopicAssignment) []byte {
	parts := make(map[int32][]int32, len(a.Partitions))
	for p, rs := range a.Partitions {
		if rs == nil {
			rs = []int32{}
		}
		parts[p] = rs
	}
	pf := make([]field, 0, len(parts))
	for p, rs := range parts {
		pf = append(pf, field{strconv.Itoa(int(p)), jsonIntArray(rs)})
	}
	fs := []field{
		{"version", jsonInt(3)},
		{"partitions", jsonObject(orderScalaMutable(pf, scalaMutableTableLen(0, len(pf))))},
		{"adding_replicas", encodeReplicaMap(a.AddingReplicas)},
		{"removing_replicas", encodeReplicaMap(a.RemovingReplicas)},
	}
	if a.TopicID != ([16]byte{}) {
		fs = append(fs, field{"topic_id", jsonString(TopicIDString(a.TopicID))})
	}
	return jsonObject(orderScalaMutable(fs, scalaMutableTableLen(4, len(fs))))
}

// decodeTopic is TopicZNode.decode: versions 1 and 2 (no topic_id, no adding/removing) too.
func decodeTopic(topic string, b []byte) (TopicAssignment, error) {
	var v struct {
		TopicID  *string            `json:"topic_id"`
		Parts    map[string][]int32 `json:"partitions"`
		Adding   map[string][]int32 `json:"adding_replicas"`
		Removing map[string][]int32 `json:"removing_replicas"`
	}
	a := TopicAssignment{Topic: topic, Partitions: map[int32][]int32{},
		AddingReplicas: map[int32][]int32{}, RemovingReplicas: map[int32][]int32{}}
	if err := json.Unmarshal(b, &v); err != nil {
		return a, fmt.Errorf("zkclient: bad assignment of topic %s: %v: %q", topic, err, b)
	}
	if v.TopicID != nil {
		id, err := ParseTopicID(*v.TopicID)
		if err != nil {
			return a, err
		}
		a.TopicID = id
	}
	conv := func(src map[string][]int32, dst map[int32][]int32, only map[string][]int32) error {
		for k, rs := range src {
			if only != nil {
				if _, ok := only[k]; !ok {
					continue
				}
			}
			p, err := strconv.ParseInt(k, 10, 32)
			if err != nil {
				return fmt.Errorf("zkclient: bad partition %q in topic %s", k, topic)
			}
			dst[int32(p)] = rs
		}
		return nil
	}
	if err := conv(v.Parts, a.Partitions, nil); err != nil {
		return a, err
	}
	if err := conv(v.Adding, a.AddingReplicas, v.Parts); err != nil {
		return a, err
	}
	if err := conv(v.Removing, a.RemovingReplicas, v.Parts); err != nil {
		return a, err
	}
	return a, nil
}

// ---- /brokers/topics/<t>/partitions/<p>/state ----

// encodePartitionState is TopicPartitionStateZNode.encode.
func encodePartitionState(st PartitionState) []byte {
	isr := st.ISR
	if isr == nil {
		isr = []int32{}
	}
	fs := []field{
		{"version", jsonInt(1)},
		{"leader", jsonInt(int64(st.Leader))},
		{"leader_epoch", jsonInt(int64(st.LeaderEpoch))},
		{"controller_epoch", jsonInt(int64(st.ControllerEpoch))},
		{"isr", jsonIntArray(isr)},
	}
	if st.LeaderRecoveryState != 0 {
		fs = append(fs, field{"leader_recovery_state", jsonInt(int64(st.LeaderRecoveryState))})
	}
	return jsonObject(orderScalaImmutable(fs))
}

func decodePartitionState(b []byte, zkVersion int32) (PartitionState, error) {
	var v struct {
		Leader          *int32  `json:"leader"`
		LeaderEpoch     *int32  `json:"leader_epoch"`
		ControllerEpoch *int32  `json:"controller_epoch"`
		ISR             []int32 `json:"isr"`
		Recovery        *int8   `json:"leader_recovery_state"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Leader == nil || v.LeaderEpoch == nil || v.ControllerEpoch == nil || v.ISR == nil {
		return PartitionState{}, fmt.Errorf("zkclient: bad partition state %q", b)
	}
	st := PartitionState{Leader: *v.Leader, LeaderEpoch: *v.LeaderEpoch, ControllerEpoch: *v.ControllerEpoch,
		ISR: v.ISR, ZkVersion: zkVersion}
	if v.Recovery != nil {
		st.LeaderRecoveryState = *v.Recovery
	}
	return st, nil
}

// ---- /config/... ----

// encodeEntityConfig is ConfigEntityZNode.encode: {"version":1,"config":{...}} where config is
// a java.util.Properties.
func encodeEntityConfig(config map[string]string) []byte {
	keys := make([]string, 0, len(config))
	for k := range config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fs := make([]field, len(keys))
	for i, k := range keys {
		fs[i] = field{k, jsonString(config[k])}
	}
	return jsonObject([]field{
		{"version", jsonInt(1)},
		{"config", jsonObject(orderJavaProperties(fs))},
	})
}

func decodeEntityConfig(b []byte) (map[string]string, error) {
	out := map[string]string{}
	if len(b) == 0 {
		return out, nil
	}
	var v struct {
		Config map[string]json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("zkclient: bad entity config %q: %v", b, err)
	}
	for k, raw := range v.Config {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw)
		}
		out[k] = s
	}
	return out, nil
}

// encodeConfigChange is ConfigEntityChangeNotificationSequenceZNode.encode (version 2).
func encodeConfigChange(entityPath string) []byte {
	return jsonObject([]field{{"version", jsonInt(2)}, {"entity_path", jsonString(entityPath)}})
}

// decodeConfigChange reads version 2 ({"entity_path"}) and version 1 ({"entity_type",
// "entity_name"}) notifications and returns the entity path.
func decodeConfigChange(b []byte) (string, error) {
	var v struct {
		EntityPath string `json:"entity_path"`
		EntityType string `json:"entity_type"`
		EntityName string `json:"entity_name"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return "", fmt.Errorf("zkclient: bad config change notification %q", b)
	}
	if v.EntityPath != "" {
		return v.EntityPath, nil
	}
	if v.EntityType != "" && v.EntityName != "" {
		return v.EntityType + "/" + v.EntityName, nil
	}
	return "", fmt.Errorf("zkclient: bad config change notification %q", b)
}

// ---- notifications with partition lists ----

// encodePartitionList is {"version":1,"partitions":[{"topic":..,"partition":..}]}, the format
// of IsrChangeNotificationSequenceZNode and PreferredReplicaElectionZNode.
func encodePartitionList(parts []TopicPartition) []byte {
	items := make([][]byte, len(parts))
	for i, tp := range parts {
		items[i] = jsonObject([]field{{"topic", jsonString(tp.Topic)}, {"partition", jsonInt(int64(tp.Partition))}})
	}
	return jsonObject([]field{{"version", jsonInt(1)}, {"partitions", jsonArray(items)}})
}

func decodePartitionList(b []byte) ([]TopicPartition, error) {
	var v struct {
		Partitions []struct {
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("zkclient: bad partition list %q", b)
	}
	out := make([]TopicPartition, len(v.Partitions))
	for i, p := range v.Partitions {
		out[i] = TopicPartition{p.Topic, p.Partition}
	}
	return out, nil
}

// ---- /cluster/id, /latest_producer_id_block, /feature ----

// encodeClusterID is ClusterIdZNode.toJson: the version is a string.
func encodeClusterID(id string) []byte {
	return jsonObject([]field{{"version", jsonString("1")}, {"id", jsonString(id)}})
}

func decodeClusterID(b []byte) (string, error) {
	var v struct {
		ID *string `json:"id"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.ID == nil {
		return "", fmt.Errorf("zkclient: bad /cluster/id data %q", b)
	}
	return *v.ID, nil
}

// encodeProducerIDBlock is ProducerIdBlockZNode.generateProducerIdBlockJson: start and end
// are strings.
func encodeProducerIDBlock(brokerID int32, first, last int64) []byte {
	return jsonObject([]field{
		{"version", jsonInt(1)},
		{"broker", jsonInt(int64(brokerID))},
		{"block_start", jsonString(strconv.FormatInt(first, 10))},
		{"block_end", jsonString(strconv.FormatInt(last, 10))},
	})
}

func decodeProducerIDBlock(b []byte) (first, last int64, err error) {
	var v struct {
		Start json.RawMessage `json:"block_start"`
		End   json.RawMessage `json:"block_end"`
	}
	num := func(raw json.RawMessage) (int64, error) {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw)
		}
		return strconv.ParseInt(s, 10, 64)
	}
	if err = json.Unmarshal(b, &v); err == nil {
		if first, err = num(v.Start); err == nil {
			last, err = num(v.End)
		}
	}
	if err != nil {
		return 0, 0, fmt.Errorf("zkclient: bad /latest_producer_id_block data %q", b)
	}
	return first, last, nil
}

// encodeFeature is FeatureZNode.encode for version 2 with status 1 (enabled) and no finalized
// features, what a Kafka 3.x controller in ZooKeeper mode writes.
func encodeFeature() []byte {
	fs := []field{{"version", jsonInt(2)}, {"status", jsonInt(1)}, {"features", []byte("{}")}}
	return jsonObject(orderScalaMutable(fs, scalaMutableTableLen(3, 3)))
}
