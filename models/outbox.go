package models

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm/clause"
)

// BodyLimit returns the most bytes WeCom accepts in the body of a message of
// kind sent on channel: 4096 for robot markdown, 2048 for text and app markdown,
// 512 for a text card's description; 0 means no split (images).
func BodyLimit(channel, kind string) int {
	switch {
	case kind == KindImage:
		return 0
	case kind == KindTextCard:
		return 512
	case kind == KindMarkdown && (channel == ChannelRobot || channel == ChannelReply):
		return 4096
	}
	return 2048
}

// DestinationOf returns the key that orders and rate-limits messages to one
// place: a hash of channel, recipient and chat, so that no webhook key or URL
// needs to appear in an index or a log line.
func DestinationOf(channel, to, chatID string) string {
	sum := sha1.Sum([]byte(channel + "\x00" + to + "\x00" + chatID))
	return channel + ":" + hex.EncodeToString(sum[:10])
}

// Enqueue puts messages in the outbox, in order. A body longer than its limit
// becomes several rows, split at line boundaries (never inside a character);
// text mentions ride on the first part. A message whose DedupeKey was enqueued
// before is skipped, so a job or a retried callback never sends twice. Called on
// a Store bound to a transaction, the messages commit or roll back with it.
func (s *Store) Enqueue(ctx context.Context, msgs ...Outgoing) error {
	if len(msgs) == 0 {
		return nil
	}
	return s.Tx(ctx, func(tx *Store) error {
		now := tx.Now()
		for _, o := range msgs {
			if o.Channel == "" || o.Kind == "" {
				return fmt.Errorf("models: enqueue: channel and kind are required")
			}
			if o.DedupeKey != "" {
				var n int64
				if err := tx.db.Model(&OutboxMessage{}).Where("dedupe_key = ?", o.DedupeKey).Count(&n).Error; err != nil {
					return fmt.Errorf("models: enqueue: check dedupe key: %w", err)
				}
				if n > 0 {
					continue
				}
			}
			parts := SplitBody(o.Body, BodyLimit(o.Channel, o.Kind))
			for i, body := range parts {
				row := OutboxMessage{
					Channel: o.Channel, To: o.To, ChatID: o.ChatID,
					Destination: DestinationOf(o.Channel, o.To, o.ChatID),
					Kind:        o.Kind, Title: o.Title, Body: body, URL: o.URL,
					Status: OutboxPending, NextAttemptAt: now, CreatedAt: now,
				}
				if i == 0 {
					row.Mentions, row.MentionMobiles = o.Mentions, o.MentionMobiles
				}
				if o.DedupeKey != "" {
					key := o.DedupeKey
					if i > 0 {
						key = fmt.Sprintf("%s#%d", o.DedupeKey, i+1)
					}
					row.DedupeKey = &key
				}
				// DO NOTHING covers a concurrent enqueue of the same key.
				if err := tx.db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
					return fmt.Errorf("models: enqueue: %w", err)
				}
			}
		}
		return nil
	})
}

// SplitBody cuts body into pieces of at most limit bytes, preferring line
// boundaries and never cutting a UTF-8 character. limit <= 0 means no limit.
func SplitBody(body string, limit int) []string {
	if limit <= 0 || len(body) <= limit {
		return []string{body}
	}
	var parts []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			parts = append(parts, strings.TrimRight(cur.String(), "\n"))
			cur.Reset()
		}
	}
	for _, line := range strings.SplitAfter(body, "\n") {
		if cur.Len()+len(line) <= limit {
			cur.WriteString(line)
			continue
		}
		flush()
		for len(line) > limit { // one line alone is too long: cut at a character boundary
			cut := limit
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			parts = append(parts, line[:cut])
			line = line[cut:]
		}
		cur.WriteString(line)
	}
	flush()
	return parts
}
