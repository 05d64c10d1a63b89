package tools

import (
	"errors"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Kafka's tools print a failed partition's error as the Java exception the admin client
// raised: its class name (org.apache.kafka.common.errors.*, from the Errors enum) and, after
// a colon, its message (the broker's error message, else the error's default one). These
// helpers render a kerr error the same way.

// javaExceptionNames are the Errors whose exception class is not the CamelCase of the error's
// name with "Exception" in place of a trailing "Error".
var javaExceptionNames = map[string]string{
	"CORRUPT_MESSAGE":              "CorruptRecordException",
	"REQUEST_TIMED_OUT":            "TimeoutException",
	"UNKNOWN_SERVER_ERROR":         "UnknownServerException",
	"CLUSTER_AUTHORIZATION_FAILED": "ClusterAuthorizationException",
	"TOPIC_AUTHORIZATION_FAILED":   "TopicAuthorizationException",
	"GROUP_AUTHORIZATION_FAILED":   "GroupAuthorizationException",
	"INVALID_TOPIC_EXCEPTION":      "InvalidTopicException",
	"NETWORK_EXCEPTION":            "NetworkException",
}

// javaException is the class name of the exception Kafka's client raises for err.
func javaException(err error) string {
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return "org.apache.kafka.common.KafkaException"
	}
	if n, ok := javaExceptionNames[ke.Message]; ok {
		return "org.apache.kafka.common.errors." + n
	}
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(ke.Message), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	name := strings.TrimSuffix(strings.TrimSuffix(b.String(), "Error"), "Exception")
	return "org.apache.kafka.common.errors." + name + "Exception"
}

// javaError is the exception's toString: "class: message".
func javaError(err error, msg *string) string {
	return javaException(err) + ": " + kafkaErr(err, msg)
}
