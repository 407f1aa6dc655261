package models_test

import (
	"testing"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

// rows returns rendered outbox rows with bodies, to one member by app text.
func rows(bodies ...string) []models.OutboxMessage {
	out := make([]models.OutboxMessage, len(bodies))
	for i, b := range bodies {
		out[i] = models.OutboxMessage{Channel: "app", To: "zhangsan", Kind: "text", Body: b}
	}
	return out
}

func TestEnqueueDedupes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		parts := rows("第一部分", "第二部分")
		key1, key2 := "daily-report/2026-11-20", "daily-report/2026-11-20/2"
		parts[0].DedupeKey, parts[1].DedupeKey = &key1, &key2
		for i := 0; i < 3; i++ {
			fresh, err := s.Enqueue(ctx, key1, parts)
			if err != nil {
				t.Fatal(err)
			}
			if fresh != (i == 0) {
				t.Errorf("enqueue %d reported fresh=%v", i+1, fresh)
			}
		}
		var got []models.OutboxMessage
		if err := s.DB(ctx).Order("id").Find(&got).Error; err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Body != "第一部分" || got[1].Body != "第二部分" {
			t.Fatalf("three enqueues of one key gave %d rows, want the 2 parts once, in order", len(got))
		}
		if got[0].Status != models.OutboxPending || got[0].Destination == "" || got[0].Destination != got[1].Destination {
			t.Errorf("rows not stamped pending to one destination: %+v", got[0])
		}
		// A rolled-back transaction leaves no message behind.
		err := s.Tx(ctx, func(tx *models.Store) error {
			if _, err := tx.Enqueue(ctx, "", rows("x")); err != nil {
				return err
			}
			return models.Errorf(models.EINVALID, "rollback")
		})
		if models.ErrorCode(err) != models.EINVALID {
			t.Fatalf("rollback: %v", err)
		}
		var n int64
		if err := s.DB(ctx).Model(&models.OutboxMessage{}).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("rolled-back enqueue left %d rows", n-2)
		}
		if _, err := s.Enqueue(ctx, "", []models.OutboxMessage{{Body: "x"}}); err == nil {
			t.Error("a row without channel and kind was enqueued")
		}
	})
}
