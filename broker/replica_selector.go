package broker

// preferredReadReplicaLocked is Kafka's ReplicaManager.findPreferredReadReplica with
// RackAwareReplicaSelector: for a consumer in rack, the replica it should read from instead of
// this leader, or -1 to read here. Candidates are the in-sync followers that have fetchOffset;
// the leader wins when it is in the consumer's rack or no candidate is; among the candidates
// in the rack, the one with the highest log end offset (then the smallest id). Caller holds
// p.mu and leads the partition.
func (p *partition) preferredReadReplicaLocked(snap *metadataSnapshot, rack string, fetchOffset int64) int32 {
	rackOf := func(id int32) string {
		if b, ok := snap.brokers[id]; ok && b.rack != nil {
			return *b.rack
		}
		return ""
	}
	if rackOf(p.self) == rack {
		return -1
	}
	best, bestLEO := int32(-1), int64(-1)
	for _, id := range p.isr {
		f := p.followers[id]
		if id == p.self || f == nil || f.leo < fetchOffset || rackOf(id) != rack {
			continue
		}
		if f.leo > bestLEO || f.leo == bestLEO && id < best {
			best, bestLEO = id, f.leo
		}
	}
	return best
}
