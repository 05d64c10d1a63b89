package zkclient

// ACLs in ZooKeeper, as Kafka's AclAuthorizer keeps them (ZkData's ZkAclStore, ResourceZNode
// and ZkAclChangeStore, KafkaZkClient's ACL methods):
//
//	/kafka-acl/<ResourceType>/<name>                    literal patterns ("*" is the wildcard)
//	/kafka-acl-extended/prefixed/<ResourceType>/<name>  prefixed patterns
//	    {"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"}]}
//	/kafka-acl-changes/acl_changes_<seq>                "TOPIC:<name>": a literal pattern changed
//	/kafka-acl-extended-changes/acl_changes_<seq>       {"version":1,"resourceType":"TOPIC","name":"<name>","patternType":"PREFIXED"}
//
// Every write of a resource znode is conditional on the zkVersion read before it, and is
// followed by a change notification that tells every broker to read that znode again.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

const (
	aclPath                = "/kafka-acl"
	extendedAclPath        = "/kafka-acl-extended"
	aclChangesPath         = "/kafka-acl-changes"
	extendedAclChangesPath = "/kafka-acl-extended-changes"
	aclChangePrefix        = "acl_changes_"
)

// Kafka's names of the paths, for readers outside the broker.
const (
	AclPath                = aclPath
	ExtendedAclPath        = extendedAclPath
	AclChangesPath         = aclChangesPath
	ExtendedAclChangesPath = extendedAclChangesPath
)

// The pattern types that have a store (PatternType.isSpecific), as PatternType.name spells them.
const (
	PatternLiteral  = "LITERAL"
	PatternPrefixed = "PREFIXED"
)

// ErrBadAcls: a resource's znode does not hold ACLs as Kafka writes them.
var ErrBadAcls = errors.New("unreadable ACL znode")

// AclResourceTypes are the resource types whose folders AclAuthorizer creates
// (AclEntry.ResourceTypes), named as SecurityUtils.resourceTypeName names them in paths.
var AclResourceTypes = []string{"Topic", "Group", "Cluster", "TransactionalId", "DelegationToken", "User"}

// AclResource is a resource pattern: ResourceType as the paths name it ("Topic",
// "TransactionalId"), Name, and PatternType PatternLiteral or PatternPrefixed.
type AclResource struct {
	ResourceType string
	Name         string
	PatternType  string
}

// AclEntry is one access control entry as the znode's JSON holds it: Principal "User:alice",
// PermissionType "Allow" or "Deny", Operation "Read" (SecurityUtils.operationName), Host an
// address or "*".
type AclEntry struct {
	Principal      string
	PermissionType string
	Operation      string
	Host           string
}

// storePath is the root of the pattern type's store (ZkAclStore.aclPath).
func storePath(patternType string) (string, error) {
	switch patternType {
	case PatternLiteral:
		return aclPath, nil
	case PatternPrefixed:
		return extendedAclPath + "/prefixed", nil
	}
	return "", fmt.Errorf("zkclient: ACLs of pattern type %q have no store (want LITERAL or PREFIXED)", patternType)
}

// AclResourcePath is the znode of a resource pattern's ACLs (ResourceZNode.path).
func AclResourcePath(r AclResource) (string, error) {
	root, err := storePath(r.PatternType)
	if err != nil {
		return "", err
	}
	if err := checkName("ACL resource type", r.ResourceType); err != nil {
		return "", err
	}
	if err := checkName("ACL resource", r.Name); err != nil {
		return "", err
	}
	return root + "/" + r.ResourceType + "/" + r.Name, nil
}

// EnsureAclPaths creates the stores, a folder per resource type in each, and the two change
// folders (KafkaZkClient.createAclPaths, run when the authorizer starts).
func (c *Client) EnsureAclPaths() error {
	for _, pt := range []string{PatternLiteral, PatternPrefixed} {
		root, _ := storePath(pt)
		for _, t := range AclResourceTypes {
			if err := c.ensurePath(root + "/" + t); err != nil {
				return err
			}
		}
	}
	for _, p := range []string{aclChangesPath, extendedAclChangesPath} {
		if err := c.ensurePath(p); err != nil {
			return err
		}
	}
	return nil
}

// AclResources lists every resource pattern with a znode in either store
// (AclAuthorizer.loadAllAcls: getResourceTypes, then getResourceNames). Folders of resource
// types Kafka does not know are skipped, as Kafka skips them.
func (c *Client) AclResources() ([]AclResource, error) {
	var out []AclResource
	for _, pt := range []string{PatternLiteral, PatternPrefixed} {
		root, _ := storePath(pt)
		types, err := c.children(root, false)
		if errors.Is(err, ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sort.Strings(types)
		for _, t := range types {
			if !knownAclResourceType(t) {
				c.log.Warn().Str("path", root+"/"+t).Msg("ignoring ACLs of an unknown resource type")
				continue
			}
			names, err := c.children(root+"/"+t, false)
			if errors.Is(err, ErrNoNode) {
				continue
			}
			if err != nil {
				return nil, err
			}
			sort.Strings(names)
			for _, n := range names {
				out = append(out, AclResource{ResourceType: t, Name: n, PatternType: pt})
			}
		}
	}
	return out, nil
}

func knownAclResourceType(t string) bool {
	for _, k := range AclResourceTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Acls reads a resource pattern's ACLs and the znode's version (getVersionedAclsForResource);
// an absent znode is no entries and version -1 (ZkVersion.UnknownVersion).
func (c *Client) Acls(r AclResource) ([]AclEntry, int32, error) {
	p, err := AclResourcePath(r)
	if err != nil {
		return nil, -1, err
	}
	data, stat, err := c.get(p)
	if errors.Is(err, ErrNoNode) {
		return nil, -1, nil
	}
	if err != nil {
		return nil, -1, err
	}
	entries, err := decodeAcls(data)
	if err != nil {
		return nil, -1, fmt.Errorf("zkclient: %s: %w: %v", p, ErrBadAcls, err)
	}
	return entries, stat.Version, nil
}

// CreateAcls creates the resource's znode (createAclsForResourceIfNotExists); false when it
// exists already (someone else created it: read again and retry).
func (c *Client) CreateAcls(r AclResource, entries []AclEntry) (bool, error) {
	p, err := AclResourcePath(r)
	if err != nil {
		return false, err
	}
	data := encodeAcls(entries)
	if err := checkAclsSize(p, data, len(entries)); err != nil {
		return false, err
	}
	_, err = c.createRecursive(p, data, 0)
	if errors.Is(err, ErrNodeExists) {
		return false, nil
	}
	return err == nil, err
}

// SetAcls writes the resource's znode if it still has version (conditionalSetAclsForResource);
// false when it changed or vanished meanwhile. It returns the new version.
func (c *Client) SetAcls(r AclResource, entries []AclEntry, version int32) (bool, int32, error) {
	p, err := AclResourcePath(r)
	if err != nil {
		return false, -1, err
	}
	if version < 0 {
		return false, -1, fmt.Errorf("zkclient: invalid version %d for a conditional update of %s", version, p)
	}
	data := encodeAcls(entries)
	if err := checkAclsSize(p, data, len(entries)); err != nil {
		return false, -1, err
	}
	stat, err := c.conn.Set(c.p(p), data, version)
	if errors.Is(err, zk.ErrNoNode) || errors.Is(err, zk.ErrBadVersion) {
		return false, -1, nil
	}
	if err != nil {
		return false, -1, zkErr("set", p, err)
	}
	return true, stat.Version, nil
}

// checkAclsSize refuses a resource's ACLs that ZooKeeper would not store, naming the limit.
func checkAclsSize(p string, data []byte, n int) error {
	if err := checkZnodeData(p, data); err != nil {
		return fmt.Errorf("%w: the %d ACLs of one resource pattern must fit one znode (ZooKeeper's jute.maxbuffer)", err, n)
	}
	return nil
}

// DeleteAcls removes the resource's znode if it still has version (conditionalDelete): true
// when it is gone (or was already), false when it changed meanwhile.
func (c *Client) DeleteAcls(r AclResource, version int32) (bool, error) {
	p, err := AclResourcePath(r)
	if err != nil {
		return false, err
	}
	err = c.conn.Delete(c.p(p), version)
	switch {
	case err == nil, errors.Is(err, zk.ErrNoNode):
		return true, nil
	case errors.Is(err, zk.ErrBadVersion):
		return false, nil
	}
	return false, zkErr("delete", p, err)
}

// CreateAclChangeNotification writes the persistent sequential acl_changes_<seq> that tells
// every broker to read the resource's ACLs again (createAclChangeNotification): under
// /kafka-acl-changes for a literal pattern, /kafka-acl-extended-changes for a prefixed one.
func (c *Client) CreateAclChangeNotification(r AclResource) error {
	root, data, err := encodeAclChange(r)
	if err != nil {
		return err
	}
	_, err = c.createRecursive(root+"/"+aclChangePrefix, data, zk.FlagSequence)
	return err
}

// AclChanges returns the resources named by the notifications of one change folder (extended:
// /kafka-acl-extended-changes, else /kafka-acl-changes) after sequence number lastSeen (-1:
// all), in order, and the newest sequence number read (lastSeen when none is newer). With
// watch it re-arms the child watch (EventAclChanged). Unreadable notifications are logged and
// skipped, as Kafka's ZkNodeChangeNotificationListener skips them.
func (c *Client) AclChanges(extended bool, lastSeen int64, watch bool) ([]AclResource, int64, error) {
	root := aclChangesPath
	if extended {
		root = extendedAclChangesPath
	}
	kids, err := c.children(root, watch)
	if errors.Is(err, ErrNoNode) {
		return nil, lastSeen, nil
	}
	if err != nil {
		return nil, lastSeen, err
	}
	type change struct {
		seq  int64
		name string
	}
	var cs []change
	for _, k := range kids {
		if n, ok := sequenceNumber(k, aclChangePrefix); ok && n > lastSeen {
			cs = append(cs, change{n, k})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].seq < cs[j].seq })
	newest := lastSeen
	var out []AclResource
	for _, ch := range cs {
		data, _, err := c.get(root + "/" + ch.name)
		if errors.Is(err, ErrNoNode) {
			newest = ch.seq
			continue
		}
		if err != nil {
			return out, newest, err
		}
		newest = ch.seq
		var r AclResource
		if extended {
			r, err = decodeExtendedAclChange(data)
		} else {
			r, err = decodeLiteralAclChange(data)
		}
		if err != nil {
			c.log.Error().Err(err).Str("path", root+"/"+ch.name).Msg("skipping unreadable ACL change notification")
			continue
		}
		out = append(out, r)
	}
	return out, newest, nil
}

// PurgeAclChanges deletes the notifications of both change folders older than maxAge (Kafka's
// ZkNodeChangeNotificationListener.purgeObsoleteNotifications, 15 minutes).
func (c *Client) PurgeAclChanges(maxAge time.Duration) error {
	cutoff := time.Now().Add(-maxAge).UnixMilli()
	for _, root := range []string{aclChangesPath, extendedAclChangesPath} {
		if err := c.purgeChildrenBefore(root, cutoff); err != nil && !errors.Is(err, ErrNoNode) {
			return err
		}
	}
	return nil
}

// ---- the JSON ----

// encodeAcls is ResourceZNode.encode: a Scala Map of version and acls (written in that order)
// whose entries are Maps of principal, permissionType, operation and host, in that order.
// Kafka's set of entries is a Scala Set: up to four entries keep the order they were added
// in, as here; beyond that Kafka's order depends on Java identity hash codes and is not
// reproducible, so klassik keeps the order it was given.
func encodeAcls(entries []AclEntry) []byte {
	items := make([][]byte, len(entries))
	for i, e := range entries {
		items[i] = jsonObject([]field{
			{"principal", jsonString(e.Principal)},
			{"permissionType", jsonString(e.PermissionType)},
			{"operation", jsonString(e.Operation)},
			{"host", jsonString(e.Host)},
		})
	}
	return jsonObject([]field{{"version", jsonInt(1)}, {"acls", jsonArray(items)}})
}

// EncodeAcls is encodeAcls, for tests and tools that write the znodes themselves.
func EncodeAcls(entries []AclEntry) []byte { return encodeAcls(entries) }

// decodeAcls is AclEntry.fromBytes: version 1 only; empty data is no entries.
func decodeAcls(b []byte) ([]AclEntry, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var v struct {
		Version *int `json:"version"`
		Acls    []struct {
			Principal      *string `json:"principal"`
			PermissionType *string `json:"permissionType"`
			Operation      *string `json:"operation"`
			Host           *string `json:"host"`
		} `json:"acls"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("bad ACL JSON %q: %v", truncate(b), err)
	}
	if v.Version == nil || *v.Version != 1 {
		return nil, fmt.Errorf("bad ACL JSON %q: want version 1", truncate(b))
	}
	out := make([]AclEntry, 0, len(v.Acls))
	for i, a := range v.Acls {
		if a.Principal == nil || a.PermissionType == nil || a.Operation == nil || a.Host == nil {
			return nil, fmt.Errorf("bad ACL JSON %q: entry %d lacks principal, permissionType, operation or host", truncate(b), i)
		}
		out = append(out, AclEntry{Principal: *a.Principal, PermissionType: *a.PermissionType, Operation: *a.Operation, Host: *a.Host})
	}
	return out, nil
}

// DecodeAcls is decodeAcls, for readers outside the broker.
func DecodeAcls(b []byte) ([]AclEntry, error) { return decodeAcls(b) }

func truncate(b []byte) []byte {
	if len(b) > 200 {
		return append(b[:200:200], "..."...)
	}
	return b
}

// enumName turns a path's resource type ("TransactionalId") into the Java enum's name
// ("TRANSACTIONAL_ID"), which the change notifications carry.
func enumName(pascal string) string {
	var b strings.Builder
	for i, r := range pascal {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteString(strings.ToUpper(string(r)))
	}
	return b.String()
}

// pascalName turns a resource type as a notification names it back into the path's form. It
// accepts the enum's name ("TRANSACTIONAL_ID") and the path's form ("TransactionalId"), in any
// case, as ResourceType.fromString and SecurityUtils.resourceType do between them.
func pascalName(s string) (string, bool) {
	u := strings.ToUpper(s)
	for _, t := range AclResourceTypes {
		if u == enumName(t) || u == strings.ToUpper(t) {
			return t, true
		}
	}
	return "", false
}

// encodeAclChange is the change folder and the content of a notification for r: a literal
// pattern's "RESOURCE_TYPE:name" (LiteralAclChangeStore: the enum's toString, a colon and the
// name), a prefixed one's ExtendedAclChangeEvent, {"version":1,"resourceType","name",
// "patternType"} in the order of its fields.
func encodeAclChange(r AclResource) (string, []byte, error) {
	if _, err := AclResourcePath(r); err != nil {
		return "", nil, err
	}
	if r.PatternType == PatternLiteral {
		return aclChangesPath, []byte(enumName(r.ResourceType) + ":" + r.Name), nil
	}
	return extendedAclChangesPath, jsonObject([]field{
		{"version", jsonInt(1)},
		{"resourceType", jsonString(enumName(r.ResourceType))},
		{"name", jsonString(r.Name)},
		{"patternType", jsonString(r.PatternType)},
	}), nil
}

func decodeLiteralAclChange(b []byte) (AclResource, error) {
	typ, name, ok := strings.Cut(string(b), ":")
	if !ok {
		return AclResource{}, fmt.Errorf("expected a string in format ResourceType:ResourceName but got %q", truncate(b))
	}
	t, ok := pascalName(typ)
	if !ok {
		return AclResource{}, fmt.Errorf("unknown resource type %q in ACL change notification", typ)
	}
	return AclResource{ResourceType: t, Name: name, PatternType: PatternLiteral}, nil
}

func decodeExtendedAclChange(b []byte) (AclResource, error) {
	var v struct {
		Version      int    `json:"version"`
		ResourceType string `json:"resourceType"`
		Name         string `json:"name"`
		PatternType  string `json:"patternType"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return AclResource{}, fmt.Errorf("failed to parse ACL change event %q: %v", truncate(b), err)
	}
	if v.Version > 1 {
		return AclResource{}, fmt.Errorf("ACL change event received for unsupported version: %d", v.Version)
	}
	t, ok := pascalName(v.ResourceType)
	if !ok {
		return AclResource{}, fmt.Errorf("unknown resource type %q in ACL change event", v.ResourceType)
	}
	pt := strings.ToUpper(v.PatternType)
	if pt != PatternPrefixed && pt != PatternLiteral {
		return AclResource{}, fmt.Errorf("unknown pattern type %q in ACL change event", v.PatternType)
	}
	return AclResource{ResourceType: t, Name: v.Name, PatternType: pt}, nil
}
