package models

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"

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

// AIBotResponsePath is the path of an AI bot's response_url. Such a URL takes
// one message only, of at most AIBotResponseLimit bytes.
const (
	AIBotResponsePath  = "/cgi-bin/aibot/response"
	AIBotResponseLimit = 20480
)

// truncatedMark ends a reply that had to be cut to fit a one-use response URL.
const truncatedMark = "\n……（内容过长，已截断）"

// parts returns the bodies of the rows o becomes. A reply through an AI bot's
// one-use response_url cannot be split, so a body over its limit is cut at a
// line boundary and marked as cut.
func (o Outgoing) parts() []string {
	if o.Channel == ChannelReply && strings.Contains(o.To, AIBotResponsePath) {
		if len(o.Body) <= AIBotResponseLimit {
			return []string{o.Body}
		}
		return []string{SplitBody(o.Body, AIBotResponseLimit-len(truncatedMark))[0] + truncatedMark}
	}
	return SplitBody(o.Body, BodyLimit(o.Channel, o.Kind))
}

// DestinationOf returns the key that orders the messages to one place (rows
// to one destination are sent in ID order): a hash of channel, recipient and chat, so that no webhook key or URL
// needs to appear in an index or a log line.
func DestinationOf(channel, to, chatID string) string {
	sum := sha1.Sum([]byte(channel + "\x00" + to + "\x00" + chatID))
	return channel + ":" + hex.EncodeToString(sum[:10])
}

// Enqueue puts messages in the outbox, in order. A body longer than its limit
// becomes several rows, split at line boundaries (never inside a character);
// text mentions ride on the first part. A reply through an AI bot's one-use
// response_url is never split: over AIBotResponseLimit it is cut and marked
// as cut. A message whose DedupeKey was enqueued
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
				seen, err := tx.Enqueued(ctx, o.DedupeKey)
				if err != nil {
					return fmt.Errorf("models: enqueue: %w", err)
				}
				if seen {
					continue
				}
			}
			parts := o.parts()
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

// Enqueued reports whether a message with the dedupe key was ever put in the
// outbox: jobs ask it to learn whether a report already went out.
func (s *Store) Enqueued(ctx context.Context, dedupeKey string) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&OutboxMessage{}).Where("dedupe_key = ?", dedupeKey).Count(&n).Error; err != nil {
		return false, fmt.Errorf("models: look up dedupe key: %w", err)
	}
	return n > 0, nil
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
			part := clip(line, limit)
			parts = append(parts, part)
			line = line[len(part):]
		}
		cur.WriteString(line)
	}
	flush()
	return parts
}
