package broker

// DescribeGroups, key 15, versions 0-5: the group coordinator describes the groups
// (coordinator/group); from v3 the broker adds each group's authorized operations when asked
// (KIP-430), for the groups described without error, as KafkaApis.handleDescribeGroupsRequest
// does.

import (
	"context"

	"github.com/klassik/klassik/coordinator/group"
	"github.com/klassik/klassik/wire"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(15, 0, 5, (*Broker).handleDescribeGroups) }

func (b *Broker) handleDescribeGroups(ctx context.Context, req *wire.Request) (kmsg.Response, error) {
	resp, err := groupAPI((*group.Coordinator).DescribeGroups)(b, ctx, req)
	if err != nil {
		return nil, err
	}
	r := req.Body.(*kmsg.DescribeGroupsRequest)
	if r.Version >= 3 && r.IncludeAuthorizedOperations {
		for i := range resp.(*kmsg.DescribeGroupsResponse).Groups {
			if g := &resp.(*kmsg.DescribeGroupsResponse).Groups[i]; g.ErrorCode == 0 {
				g.AuthorizedOperations = groupAuthorizedOperations
			}
		}
	}
	return resp, nil
}
