// Package transaction is the transaction coordinator of one broker (Kafka's
// TransactionCoordinator, TransactionStateManager and TransactionMarkerChannelManager, KIP-98).
//
// A transactional producer names itself with a transactional.id. The coordinator of that id is
// the leader of partition abs(hashCode(id)) % transaction.state.log.num.partitions of
// __transaction_state, a compacted internal topic in which each transactional id's latest
// state is one record: key TransactionLogKey (the id), value TransactionLogValue (producer id
// and epoch, timeout, state, the partitions in the transaction, timestamps), in Kafka's own
// schemas. The life of a transaction, as the producer drives it:
//
//	InitProducerId       the id gets a producer id (from /latest_producer_id_block) and a new
//	                     epoch; an older producer with the same id is fenced, and its open
//	                     transaction aborted                                  -> Empty
//	AddPartitionsToTxn   the partitions it is about to write to               -> Ongoing
//	AddOffsetsToTxn      the group's __consumer_offsets partition, for TxnOffsetCommit
//	EndTxn               commit or abort: written as PrepareCommit / PrepareAbort; the answer
//	                     goes back; then the markers are written           -> PrepareCommit
//	WriteTxnMarkers      to the leader of every partition of the transaction, retried until
//	                     each is written; then                             -> CompleteCommit
//
// Every change is appended to __transaction_state with acks=all before it takes effect, and
// while one is in flight, the id answers CONCURRENT_TRANSACTIONS. When this broker becomes
// leader of a partition of __transaction_state it replays the partition (answering
// COORDINATOR_LOAD_IN_PROGRESS meanwhile) and finishes the transactions it finds prepared;
// when it stops leading it, the ids of that partition answer NOT_COORDINATOR. The partition's
// leader epoch is the coordinator epoch that the markers carry, so a partition leader can
// refuse markers from a deposed coordinator (TRANSACTION_COORDINATOR_FENCED).
//
// Two timers run, as in Kafka: transactions open longer than their transaction.timeout.ms are
// aborted (with the epoch bumped, fencing the producer that let it run out) every
// transaction.abort.timed.out.transaction.cleanup.interval.ms, and ids idle for
// transactional.id.expiration.ms are removed (a tombstone) every
// transaction.remove.expired.transaction.cleanup.interval.ms.
//
// The package imports no broker code: the broker hands in the log of __transaction_state
// (Log), the sender of markers (MarkerWriter) and the producer id blocks (ProducerIDs).
package transaction
