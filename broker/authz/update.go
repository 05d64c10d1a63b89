package authz

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Changing ACLs: CreateAcls and DeleteAcls, as AclAuthorizer.createAcls and deleteAcls write
// them. A resource's znode is read, changed and written back only if its zkVersion is still
// the one read (retried up to maxUpdateRetries times against writers on other brokers), then
// a change notification tells every broker to read it again.

// maxUpdateRetries is AclAuthorizer.maxUpdateRetries.
const maxUpdateRetries = 10

// InvalidError is an ACL refused as malformed: INVALID_REQUEST with its sentence.
type InvalidError struct{ msg string }

func (e *InvalidError) Error() string { return e.msg }
func (e *InvalidError) Unwrap() error { return kerr.InvalidRequest }

func invalidf(format string, args ...any) error { return &InvalidError{fmt.Sprintf(format, args...)} }

// validate is what KafkaApis (AclApis.handleCreateAcls) and AclAuthorizer.validateAclBinding
// refuse in a binding to create.
func validate(b Binding) error {
	p, e := b.Pattern, b.Entry
	switch {
	case p.Type <= ResourceAny || int(p.Type) >= len(resourceTypeNames) || p.PatternType != PatternLiteral && p.PatternType != PatternPrefixed ||
		e.Operation <= OpAny || int(e.Operation) >= len(operationNames) || e.Permission <= PermissionAny || int(e.Permission) >= len(permissionNames):
		return invalidf("Failed to create ACL: ACL binding contains unknown elements")
	case p.Type == ResourceCluster && p.Name != ClusterName:
		return invalidf("The only valid name for the CLUSTER resource is %s", ClusterName)
	case p.Name == "":
		return invalidf("Invalid empty resource name")
	case strings.Contains(p.Name, "/"):
		return invalidf("Failed to create ACL: ACL binding contains invalid resource name: %s", p.Name)
	case p.Name == "." || p.Name == ".." || strings.ContainsRune(p.Name, 0):
		return invalidf("Failed to create ACL: %q cannot be a ZooKeeper node name", p.Name)
	}
	if err := ParsePrincipal(e.Principal); err != nil {
		return invalidf("Failed to create ACL: %v", err)
	}
	return nil
}

// CreateAcls adds the bindings, each resource's in one conditional write, and returns one
// error (nil: created) per binding, in order. Adding an entry a resource already has
// changes nothing and succeeds.
func (a *Authorizer) CreateAcls(bindings []Binding) []error {
	errs := make([]error, len(bindings))
	byPattern := map[Pattern][]int{}
	var order []Pattern
	for i, b := range bindings {
		if errs[i] = validate(b); errs[i] != nil {
			continue
		}
		if _, ok := byPattern[b.Pattern]; !ok {
			order = append(order, b.Pattern)
		}
		byPattern[b.Pattern] = append(byPattern[b.Pattern], i)
	}
	a.updMu.Lock()
	defer a.updMu.Unlock()
	for _, p := range order {
		idx := byPattern[p]
		err := a.updateResourceAcls(p, func(cur []Entry) []Entry {
			next := append([]Entry(nil), cur...)
			for _, i := range idx {
				if !containsEntry(next, bindings[i].Entry) {
					next = append(next, bindings[i].Entry)
				}
			}
			return next
		})
		for _, i := range idx {
			errs[i] = err
		}
	}
	return errs
}

// DeleteResult is what one filter deleted: each binding with its own error (nil: deleted),
// or Err for the filter as a whole.
type DeleteResult struct {
	Err      error
	Bindings []DeletedBinding
}

// DeletedBinding is one binding a filter matched.
type DeletedBinding struct {
	Binding Binding
	Err     error
}

// DeleteAcls removes every binding that a filter matches (AclAuthorizer.deleteAcls): the
// candidates are the cached patterns and, for a filter that names one pattern exactly, that
// pattern (ANY: both the literal and the prefixed one), so that ACLs written on another broker
// and not yet seen here are deleted too. A binding several filters match is reported under
// the first.
func (a *Authorizer) DeleteAcls(filters []Filter) []DeleteResult {
	results := make([]DeleteResult, len(filters))
	a.updMu.Lock()
	defer a.updMu.Unlock()

	a.mu.RLock()
	candidates := a.sortedPatterns()
	a.mu.RUnlock()
	seen := map[Pattern]bool{}
	for _, p := range candidates {
		seen[p] = true
	}
	for _, f := range filters {
		if !f.Pattern.matchesAtMostOne() {
			continue
		}
		pts := []PatternType{f.Pattern.PatternType}
		if f.Pattern.PatternType == PatternAny {
			pts = []PatternType{PatternLiteral, PatternPrefixed}
		}
		for _, pt := range pts {
			p := Pattern{Type: f.Pattern.Type, Name: *f.Pattern.Name, PatternType: pt}
			if !seen[p] && validate(Binding{Pattern: p, Entry: Entry{Principal: "User:x", Host: "*", Operation: OpAll, Permission: PermissionAllow}}) == nil {
				seen[p] = true
				candidates = append(candidates, p)
			}
		}
	}

	owner := map[Binding]int{} // the filter each deleted binding is reported under
	var deleted []Binding
	for _, p := range candidates {
		var matching []int
		for i, f := range filters {
			if f.Pattern.Matches(p) {
				matching = append(matching, i)
			}
		}
		if len(matching) == 0 {
			continue
		}
		var here []Binding
		err := a.updateResourceAcls(p, func(cur []Entry) []Entry {
			here = here[:0]
			var keep []Entry
			for _, e := range cur {
				b := Binding{Pattern: p, Entry: e}
				hit := false
				for _, i := range matching {
					if filters[i].Entry.Matches(e) {
						if _, ok := owner[b]; !ok {
							owner[b] = i
							deleted = append(deleted, b)
						}
						hit = true
						break
					}
				}
				if hit {
					here = append(here, b)
				} else {
					keep = append(keep, e)
				}
			}
			return keep
		})
		if err != nil {
			for _, b := range here {
				results[owner[b]].Bindings = append(results[owner[b]].Bindings, DeletedBinding{Binding: b, Err: err})
			}
			// Bindings recorded in an attempt that then failed are reported with the error.
			for _, b := range here {
				delete(owner, b)
			}
		}
	}
	for _, b := range deleted {
		if i, ok := owner[b]; ok {
			results[i].Bindings = append(results[i].Bindings, DeletedBinding{Binding: b})
		}
	}
	return results
}

func containsEntry(es []Entry, e Entry) bool {
	for _, x := range es {
		if x == e {
			return true
		}
	}
	return false
}

func sameEntries(x, y []Entry) bool {
	if len(x) != len(y) {
		return false
	}
	for _, e := range x {
		if !containsEntry(y, e) {
			return false
		}
	}
	return true
}

// updateResourceAcls is AclAuthorizer.updateResourceAcls: change turns the current entries
// into the new ones; the znode is created, rewritten or deleted (no entries left) on
// condition of its zkVersion, re-read and retried on conflict. When the entries did change,
// the cache takes them and a notification is written. Called with updMu held.
func (a *Authorizer) updateResourceAcls(p Pattern, change func([]Entry) []Entry) error {
	r := toZk(p)
	cur, ok := a.cached(p)
	if !ok {
		zs, version, err := a.store.Acls(r)
		if err != nil {
			return err
		}
		cur = versioned{entries: a.entriesFromZk(p, zs), version: version}
	}
	for retries := 0; ; retries++ {
		next := change(cur.entries)
		var done bool
		var version int32
		var err error
		switch {
		case len(next) > 0 && cur.version >= 0:
			done, version, err = a.store.SetAcls(r, entriesToZk(next), cur.version)
		case len(next) > 0:
			done, err = a.store.CreateAcls(r, entriesToZk(next))
		default:
			done, err = a.store.DeleteAcls(r, cur.version)
			version = -1
		}
		if err != nil {
			return err
		}
		if done {
			changed := !sameEntries(next, cur.entries)
			a.updateCache(p, versioned{entries: next, version: version})
			if changed {
				a.log.Info().Str("resource", p.String()).Int32("zk_version", version).Int("acls", len(next)).Msg("updated ACLs")
				if err := a.store.CreateAclChangeNotification(r); err != nil {
					return fmt.Errorf("writing the ACL change notification for %s: %w", p, err)
				}
			}
			return nil
		}
		if retries >= maxUpdateRetries {
			return errors.New("failed to update ACLs for " + p.String() + " after trying a maximum of 10 times")
		}
		time.Sleep(100*time.Millisecond + time.Duration(rand.IntN(50))*time.Millisecond)
		zs, version, err := a.store.Acls(r)
		if err != nil {
			return err
		}
		cur = versioned{entries: a.entriesFromZk(p, zs), version: version}
	}
}
