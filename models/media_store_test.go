package models_test

import (
	"bytes"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestMediaIsStoredOnceInChunksAndPruned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		big := bytes.Repeat([]byte("雁阵图表"), models.MediaChunkSize/4) // 3 chunks: 12 bytes × 65536 = 786432
		small := []byte("PNG!")
		hBig, err := s.PutMedia(ctx, big)
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.PutMedia(ctx, big)
		if err != nil || again != hBig || hBig != models.MediaHash(big) {
			t.Fatalf("the same bytes are stored under %s then %s (%v)", hBig, again, err)
		}
		hSmall, err := s.PutMedia(ctx, small)
		if err != nil {
			t.Fatal(err)
		}
		var chunks int64
		if err := s.DB(ctx).Model(&models.MediaChunk{}).Where("hash = ?", hBig).Count(&chunks).Error; err != nil {
			t.Fatal(err)
		}
		if chunks != 3 {
			t.Errorf("%d bytes in %d chunks, want 3", len(big), chunks)
		}
		for _, c := range []struct {
			hash string
			data []byte
		}{{hBig, big}, {hSmall, small}} {
			got, err := s.MediaData(ctx, c.hash)
			if err != nil || !bytes.Equal(got, c.data) {
				t.Errorf("read back %d bytes of %d (%v)", len(got), len(c.data), err)
			}
		}
		if _, err := s.MediaData(ctx, models.MediaHash([]byte("never stored"))); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("unknown media: %v", err)
		}

		// A pending row keeps its media; the other old media goes.
		key := "chart/1"
		if _, err := s.Enqueue(ctx, key, []models.OutboxMessage{{Channel: "robot", Kind: "image", Body: "图表", Media: hSmall}}); err != nil {
			t.Fatal(err)
		}
		n, err := s.PruneMedia(ctx, time.Now().Add(time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("pruned %d (%v), want the unreferenced one", n, err)
		}
		if _, err := s.MediaData(ctx, hBig); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("pruned media still reads: %v", err)
		}
		if got, err := s.MediaData(ctx, hSmall); err != nil || !bytes.Equal(got, small) {
			t.Errorf("media of a pending row was pruned: %v", err)
		}
		if err := s.DB(ctx).Model(&models.MediaChunk{}).Where("hash = ?", hBig).Count(&chunks).Error; err != nil || chunks != 0 {
			t.Errorf("%d chunks of pruned media left (%v)", chunks, err)
		}
		// Nothing younger than the cut-off goes.
		if _, err := s.PutMedia(ctx, big); err != nil {
			t.Fatal(err)
		}
		if n, err := s.PruneMedia(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Errorf("pruned %d young media (%v)", n, err)
		}
	})
}
