package broker

import (
	"testing"

	"github.com/klassik/klassik/record"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestValidateClientProduce(t *testing.T) {
	batch := func(attrs int16) []byte {
		return record.Build(record.BatchHeader{Attributes: attrs, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: 1},
			record.AppendRecord(nil, 0, 0, []byte("k"), []byte("v"), nil))
	}
	plain, control := batch(0), batch(record.AttrControl)
	for _, tc := range []struct {
		topic   string
		records []byte
		want    *kerr.Error
	}{
		{"orders", plain, nil},
		{"__consumer_offsets", plain, kerr.InvalidTopicException},
		{"__transaction_state", plain, kerr.InvalidTopicException},
		{"orders", control, kerr.InvalidRecord},
		{"orders", append(append([]byte{}, plain...), control...), kerr.InvalidRecord},
		{"__consumer_offsets", control, kerr.InvalidTopicException},
	} {
		err := validateClientProduce(tc.topic, tc.records)
		if got := errCode(err); (tc.want == nil && got != 0) || (tc.want != nil && got != tc.want.Code) {
			t.Errorf("%s, %d bytes: error %v (code %d), want %v", tc.topic, len(tc.records), err, got, tc.want)
		}
	}
}
