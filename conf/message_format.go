package conf

import "strings"

// messageFormatReleases lists the releases Kafka 3.6's MetadataVersion knows, each with the
// number of its internal versions (IV0, IV1, ...); releases before 0.10 have none.
var messageFormatReleases = []struct {
	release string
	ivs     int
}{
	{"0.8.0", 0}, {"0.8.1", 0}, {"0.8.2", 0}, {"0.9.0", 0},
	{"0.10.0", 2}, {"0.10.1", 3}, {"0.10.2", 1}, {"0.11.0", 3},
	{"1.0", 1}, {"1.1", 1}, {"2.0", 2}, {"2.1", 3}, {"2.2", 2}, {"2.3", 2}, {"2.4", 2},
	{"2.5", 1}, {"2.6", 1}, {"2.7", 3}, {"2.8", 2}, {"3.0", 2}, {"3.1", 1}, {"3.2", 1},
	{"3.3", 4}, {"3.4", 1}, {"3.5", 3}, {"3.6", 3},
}

// ValidMessageFormatVersion reports whether v names a version as Kafka 3.6's
// MetadataVersion.fromVersionString reads it (message.format.version,
// log.message.format.version): a release ("2.8", "0.10.2"), one of its internal versions
// ("3.0-IV1"), or either followed by more dot-separated parts ("2.8.1", "0.10.2.1"), which
// are ignored; releases from 0.x keep three parts, later ones two.
func ValidMessageFormatVersion(v string) bool {
	parts := strings.Split(v, ".")
	n := 2
	if strings.HasPrefix(v, "0.") {
		n = 3
	}
	key := v
	if len(parts) > n {
		key = strings.Join(parts[:n], ".")
	}
	for _, r := range messageFormatReleases {
		if key == r.release {
			return true
		}
		for i := 0; i < r.ivs; i++ {
			if key == r.release+"-IV"+string(rune('0'+i)) {
				return true
			}
		}
	}
	return false
}
