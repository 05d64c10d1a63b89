// Package zkclient is klassik's ZooKeeper data model: the counterpart of Apache Kafka's
// KafkaZkClient (the operations) and ZkData (the paths and the JSON of every znode), over
// github.com/go-zookeeper/zk.
//
// In the classic (pre-KRaft) architecture ZooKeeper is the cluster's source of truth: brokers
// register there with ephemeral znodes, one broker wins the /controller election, and topics,
// assignments, leaders and ISRs live in persistent znodes. klassik writes Kafka 3.x's layout
// byte for byte (the JSON key order included, see order.go), so Kafka's documentation,
// zkCli.sh and anyone's knowledge of classic Kafka describe a klassik cluster truthfully.
// Reads also accept the formats older Kafka versions wrote.
//
// Every path below is relative to the chroot of zookeeper.connect ("h1:2181,h2:2181/klassik"),
// which Connect creates when missing.
//
//	znode                                         mode                  content (Kafka class)
//	/brokers/ids/<id>                             ephemeral             {"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},
//	                                                                    "endpoints":["PLAINTEXT://h:9092"],"jmx_port":-1,"port":9092,"host":"h",
//	                                                                    "version":5,"timestamp":"<ms>"} (+"rack") — its czxid is the broker epoch (BrokerIdZNode)
//	/brokers/topics/<t>                           persistent            {"partitions":{"0":[1,2,3]},"topic_id":"<base64url>","adding_replicas":{},
//	                                                                    "removing_replicas":{},"version":3} (TopicZNode)
//	/brokers/topics/<t>/partitions/<p>/state      persistent            {"controller_epoch":5,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2,3]}
//	                                                                    — its zkVersion is the partition epoch (TopicPartitionStateZNode)
//	/brokers/seqid                                persistent            empty; its version generates broker ids (BrokerSequenceIdZNode)
//	/controller                                   ephemeral             {"version":1,"brokerid":1,"timestamp":"<ms>"} (ControllerZNode)
//	/controller_epoch                             persistent            "1" — its zkVersion fences every controller write (ControllerEpochZNode)
//	/admin/delete_topics/<t>                      persistent            empty (DeleteTopicsTopicZNode)
//	/admin/preferred_replica_election             persistent            {"version":1,"partitions":[{"topic":"t","partition":0}]}
//	/admin/reassign_partitions                    persistent            {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2]}]}
//	                                                                    (ReassignPartitionsZNode; removed by the controller once done)
//	/config/topics/<t>                            persistent            {"version":1,"config":{"retention.ms":"1000"}} (ConfigEntityZNode)
//	/config/{clients,users,brokers,ips}           persistent            parents of other config entities
//	/config/clients/<c>, /config/users/<u>        persistent            {"version":1,"config":{"producer_byte_rate":"1024"}}: quotas,
//	/config/users/<u>/clients/<c>                                       names sanitized (URL-encoded), <default> for a default
//	/config/changes/config_change_<seq>           persistent sequential {"version":2,"entity_path":"topics/<t>"}
//	/isr_change_notification/isr_change_<seq>     persistent sequential {"version":1,"partitions":[{"topic":"t","partition":0}]}
//	/log_dir_event_notification/log_dir_event_<seq> persistent sequential {"version":1,"broker":1,"event":1} (LogDirEventNotificationSequenceZNode)
//	/cluster/id                                   persistent            {"version":"1","id":"<base64url>"} (ClusterIdZNode)
//	/latest_producer_id_block                     persistent            {"version":1,"broker":1,"block_start":"0","block_end":"999"}
//	/feature                                      persistent            {"features":{},"version":2,"status":1} (FeatureZNode)
//	/consumers, /log_dir_event_notification       persistent            empty
//
// Fencing: TryElectController creates /controller and bumps /controller_epoch in one
// transaction (Kafka's registerControllerAndIncrementControllerEpoch) and returns a
// ControllerEpoch; every controller write is a transaction whose first op checks
// /controller_epoch's zkVersion, so a deposed controller gets ErrNotController and changes
// nothing.
//
// Events: ZooKeeper watches are one-shot. Methods taking watch=true arm one; when it fires it
// arrives, typed, on Events(), together with session changes (EventDisconnected,
// EventSessionExpired, EventSessionEstablished). The caller re-arms by reading again. After
// EventSessionExpired every ephemeral and watch of the old session is gone: re-register the
// broker, re-run the election, re-read with watch=true.
//
// The subpackage zktest starts real ZooKeeper servers for tests.
package zkclient
