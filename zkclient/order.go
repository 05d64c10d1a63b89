package zkclient

import (
	"sort"
	"unicode/utf16"
)

// Kafka writes every znode with Jackson from a java.util.Map view of a Scala (or Java) map, so
// the order of the keys in the JSON is the iteration order of that map. The helpers below
// reproduce those orders so that the bytes we write are the bytes Kafka writes:
//
//   - scala.collection.immutable.Map with up to four entries (Map1..Map4): insertion order.
//   - scala.collection.immutable.HashMap (five or more entries): CHAMP trie order.
//   - scala.collection.mutable.HashMap: bucket order of its open hash table.
//   - java.util.Properties (a ConcurrentHashMap inside): bucket order of its table.

// field is one key of a JSON object with its value already encoded.
type field struct {
	k string
	v []byte
}

// javaHash is java.lang.String.hashCode (over UTF-16 code units), which is also Scala's ##.
func javaHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// orderScalaImmutable orders fields as scala.collection.immutable.Map iterates them.
func orderScalaImmutable(fs []field) []field {
	if len(fs) <= 4 {
		return fs
	}
	return champOrder(fs, 0)
}

// scalaImproveImmutable is scala.collection.Hashing.improve, used by immutable.HashMap.
func scalaImproveImmutable(hcode int32) uint32 {
	h := hcode + ^(hcode << 9)
	h ^= int32(uint32(h) >> 14)
	h += h << 4
	return uint32(h ^ int32(uint32(h)>>10))
}

// champOrder is the iteration order of a CHAMP node at shift: the node's own entries by
// bitmap position, then its sub-nodes by bitmap position, each in the same order.
func champOrder(fs []field, shift uint) []field {
	if len(fs) <= 1 || shift >= 32 {
		return fs
	}
	groups := map[uint32][]field{}
	for _, f := range fs {
		m := (scalaImproveImmutable(javaHash(f.k)) >> shift) & 31
		groups[m] = append(groups[m], f)
	}
	masks := make([]uint32, 0, len(groups))
	for m := range groups {
		masks = append(masks, m)
	}
	sort.Slice(masks, func(i, j int) bool { return masks[i] < masks[j] })
	out := make([]field, 0, len(fs))
	for _, m := range masks {
		if len(groups[m]) == 1 {
			out = append(out, groups[m][0])
		}
	}
	for _, m := range masks {
		if len(groups[m]) > 1 {
			out = append(out, champOrder(groups[m], shift+5)...)
		}
	}
	return out
}

// scalaMutableTableLen is the table length of a scala.collection.mutable.HashMap built by
// HashMap.from with known entries (0: the empty constructor) and grown to total entries.
func scalaMutableTableLen(known, total int) int {
	capacity := 16
	if known > 0 {
		capacity = int(float64(known+1) / 0.75)
	}
	c := capacity - 1
	if c < 4 {
		c = 4
	}
	l := 1
	for l*2 <= c {
		l *= 2
	}
	l *= 2
	for n := 0; n < total; n++ {
		if n+1 >= int(float64(l)*0.75) {
			l *= 2
		}
	}
	return l
}

// orderScalaMutable orders fields as a scala.collection.mutable.HashMap with a table of
// tableLen buckets iterates them: by bucket, and by improved hash inside a bucket.
func orderScalaMutable(fs []field, tableLen int) []field {
	out := append([]field(nil), fs...)
	mask := int32(tableLen - 1)
	imp := func(s string) int32 { h := javaHash(s); return h ^ int32(uint32(h)>>16) }
	sort.SliceStable(out, func(i, j int) bool {
		hi, hj := imp(out[i].k), imp(out[j].k)
		if hi&mask != hj&mask {
			return hi&mask < hj&mask
		}
		return hi < hj
	})
	return out
}

// orderJavaProperties orders fields as a java.util.Properties (Java 9+, a ConcurrentHashMap
// created with capacity 8) iterates them: by bucket of spread(hash). Inside one bucket the
// real order depends on insertion history; we keep the given order (callers sort keys).
func orderJavaProperties(fs []field) []field {
	n := 16
	for len(fs) >= n-n/4 {
		n *= 2
	}
	out := append([]field(nil), fs...)
	spread := func(s string) int32 { h := javaHash(s); return (h ^ int32(uint32(h)>>16)) & 0x7fffffff }
	sort.SliceStable(out, func(i, j int) bool {
		return spread(out[i].k)&int32(n-1) < spread(out[j].k)&int32(n-1)
	})
	return out
}
