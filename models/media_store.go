package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Media is the payload of an image or a file an outbox row sends, stored
// once by its content (Hash, the hex SHA-256) and referenced by the rows
// (OutboxMessage.Media), so that an outbox row stays small however large
// its attachment. The bytes are kept in chunks of at most MediaChunkSize, so
// that no statement exceeds a database's packet limit.
type Media struct {
	Hash      string    `gorm:"primaryKey;size:64"`
	Size      int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null;index"`
}

// TableName names the table.
func (Media) TableName() string { return "media" }

// MediaChunk is one piece of a Media's bytes.
type MediaChunk struct {
	Hash string `gorm:"primaryKey;size:64"`
	Seq  int    `gorm:"primaryKey;autoIncrement:false"`
	Data []byte `gorm:"not null"`
}

// MediaChunkSize is the largest chunk: a quarter of MySQL's oldest default
// max_allowed_packet (1 MB), so that even escaped it fits.
const MediaChunkSize = 256 << 10

// MediaHash returns the key data is stored under.
func MediaHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// PutMedia stores data, unless it is stored already, and returns its hash.
func (s *Store) PutMedia(ctx context.Context, data []byte) (string, error) {
	hash := MediaHash(data)
	err := s.Tx(ctx, func(tx *Store) error {
		var n int64
		if err := tx.db.Model(&Media{}).Where("hash = ?", hash).Count(&n).Error; err != nil {
			return fmt.Errorf("models: look up media: %w", err)
		}
		if n > 0 {
			return nil
		}
		res := tx.db.Clauses(clause.OnConflict{DoNothing: true}).Create(&Media{Hash: hash, Size: int64(len(data)), CreatedAt: tx.Now()})
		if res.Error != nil {
			return fmt.Errorf("models: store media: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil // stored meanwhile
		}
		for seq := 0; seq == 0 || seq*MediaChunkSize < len(data); seq++ {
			chunk := data[seq*MediaChunkSize : min(len(data), (seq+1)*MediaChunkSize)]
			if err := tx.db.Create(&MediaChunk{Hash: hash, Seq: seq, Data: chunk}).Error; err != nil {
				return fmt.Errorf("models: store media chunk %d: %w", seq, err)
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return hash, nil
}

// MediaData returns the bytes stored under hash, or ENOTFOUND.
func (s *Store) MediaData(ctx context.Context, hash string) ([]byte, error) {
	var m Media
	err := s.db.WithContext(ctx).Where("hash = ?", hash).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "附件已过期或不存在")
	}
	if err != nil {
		return nil, fmt.Errorf("models: find media: %w", err)
	}
	data := make([]byte, 0, m.Size)
	rows, err := s.db.WithContext(ctx).Model(&MediaChunk{}).Where("hash = ?", hash).Order("seq").Rows()
	if err != nil {
		return nil, fmt.Errorf("models: read media: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c MediaChunk
		if err := s.db.ScanRows(rows, &c); err != nil {
			return nil, fmt.Errorf("models: read media: %w", err)
		}
		data = append(data, c.Data...)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("models: read media: %w", err)
	}
	if int64(len(data)) != m.Size || MediaHash(data) != hash {
		return nil, fmt.Errorf("models: media %s is damaged: %d of %d bytes", hash[:12], len(data), m.Size)
	}
	return data, nil
}

// PruneMedia deletes the media stored before before that no pending outbox
// row references, and returns how many it deleted.
func (s *Store) PruneMedia(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.Tx(ctx, func(tx *Store) error {
		pending := tx.db.Model(&OutboxMessage{}).Select("media").Where("status = ? AND media <> ''", OutboxPending)
		var hashes []string
		if err := tx.db.Model(&Media{}).Where("created_at < ? AND hash NOT IN (?)", before, pending).Pluck("hash", &hashes).Error; err != nil {
			return fmt.Errorf("models: find old media: %w", err)
		}
		if len(hashes) == 0 {
			return nil
		}
		if err := tx.db.Where("hash IN ?", hashes).Delete(&MediaChunk{}).Error; err != nil {
			return fmt.Errorf("models: delete old media: %w", err)
		}
		res := tx.db.Where("hash IN ?", hashes).Delete(&Media{})
		if res.Error != nil {
			return fmt.Errorf("models: delete old media: %w", res.Error)
		}
		n = res.RowsAffected
		return nil
	})
	return n, err
}
