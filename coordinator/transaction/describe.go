package transaction

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Visibility (KIP-664): DescribeTransactions and ListTransactions, served from the coordinator's
// memory as Kafka's TransactionStateManager does.

// Describe answers DescribeTransactions for ids: each id's error (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, TRANSACTIONAL_ID_NOT_FOUND) or its state.
func (c *Coordinator) Describe(ids []string) []kmsg.DescribeTransactionsResponseTransactionState {
	out := make([]kmsg.DescribeTransactionsResponseTransactionState, 0, len(ids))
	for _, id := range ids {
		d := kmsg.NewDescribeTransactionsResponseTransactionState()
		d.TransactionalID = id
		d.ProducerID, d.ProducerEpoch, d.StartTimestamp = -1, -1, -1
		t, _, err := c.lookup(id)
		if err == nil && t == nil {
			err = kerr.TransactionalIDNotFound
		}
		if err != nil {
			d.ErrorCode = err.(*kerr.Error).Code
			out = append(out, d)
			continue
		}
		t.mu.Lock()
		s := t.cur
		t.mu.Unlock()
		if s.producerEpoch < 0 {
			d.ErrorCode = kerr.TransactionalIDNotFound.Code // created, never written
			out = append(out, d)
			continue
		}
		d.State = s.state.String()
		d.TimeoutMillis = s.timeoutMs
		d.StartTimestamp = s.startMs
		d.ProducerID, d.ProducerEpoch = s.producerID, s.producerEpoch
		for _, tp := range s.sortedPartitions() {
			if n := len(d.Topics); n == 0 || d.Topics[n-1].Topic != tp.Topic {
				dt := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
				dt.Topic = tp.Topic
				d.Topics = append(d.Topics, dt)
			}
			dt := &d.Topics[len(d.Topics)-1]
			dt.Partitions = append(dt.Partitions, tp.Partition)
		}
		out = append(out, d)
	}
	return out
}

// List answers ListTransactions: the ids this broker coordinates, filtered by state names and
// producer ids (an empty filter passes everything). Unknown state names are returned apart, as
// Kafka does; COORDINATOR_LOAD_IN_PROGRESS while any partition is loading.
func (c *Coordinator) List(stateFilters []string, pidFilters []int64) (resp *kmsg.ListTransactionsResponse) {
	resp = kmsg.NewPtrListTransactionsResponse()
	states := map[State]bool{}
	for _, name := range stateFilters {
		known := false
		for s := Empty; s <= PrepareEpochFence; s++ {
			if s.String() == name {
				states[s], known = true, true
			}
		}
		if !known {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, name)
		}
	}
	pids := map[int64]bool{}
	for _, p := range pidFilters {
		pids[p] = true
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	for _, st := range c.partitions {
		if st.loading {
			c.mu.Unlock()
			resp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
			return resp
		}
	}
	ts := make([]*txnMetadata, 0, len(c.txns))
	for _, t := range c.txns {
		ts = append(ts, t)
	}
	c.mu.Unlock()
	for _, t := range ts {
		t.mu.Lock()
		s := t.cur
		t.mu.Unlock()
		if s.producerEpoch < 0 || (len(stateFilters) > 0 && !states[s.state]) || (len(pids) > 0 && !pids[s.producerID]) {
			continue
		}
		l := kmsg.NewListTransactionsResponseTransactionState()
		l.TransactionalID, l.ProducerID, l.TransactionState = t.id, s.producerID, s.state.String()
		resp.TransactionStates = append(resp.TransactionStates, l)
	}
	sort.Slice(resp.TransactionStates, func(i, j int) bool {
		return resp.TransactionStates[i].TransactionalID < resp.TransactionStates[j].TransactionalID
	})
	return resp
}
