package tickets

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"

	"yanzhen/models"
	"yanzhen/sheet"
)

// conflictRetries is how often a batch is retried when another import created
// one of its tickets meanwhile.
const conflictRetries = 3

// maxBatchBytes bounds the text of the rows of one batch, so that a batch of
// rows with long contents does not hold BatchSize times 48 KB.
const maxBatchBytes = 16 << 20

// run reads records with next until io.EOF and writes them in batches.
// Reading and parsing run in a goroutine of their own, one batch ahead of the
// writes. When ctx ends first, the import stops and returns ctx's error with
// the summary of the batches written before (each batch is written whole or
// not at all).
func (s *Service) run(ctx context.Context, actor string, next func() (int, record, error)) (*Summary, error) {
	dir, err := s.Store.Directory(ctx)
	if err != nil {
		return nil, err
	}
	keep := cmpOr(s.MaxErrors, DefaultMaxErrors)
	work, cancel := context.WithCancel(ctx)
	defer cancel()

	rd := &batchReader{
		parser: rowParser{s: s, dir: dir, loc: s.Store.Location(), unknown: unknownNames{}},
		rows:   cmpOr(s.BatchSize, DefaultBatchSize),
		keep:   keep,
	}
	batches := make(chan []*input, 1)
	go rd.read(work, next, batches)

	sum := &Summary{}
	var writeErr error
	for batch := range batches {
		if writeErr == nil {
			if writeErr = s.writeBatch(work, batch, actor, sum, keep); writeErr != nil {
				cancel() // stop the reader; the loop drains what it sent
			}
		}
	}
	rd.sum.Unknown = rd.parser.unknown.list()
	sum.merge(&rd.sum, keep)
	err = cmp.Or(writeErr, rd.err)
	if ctx.Err() != nil && (err != nil || !rd.eof) {
		return sum, fmt.Errorf("tickets: import stopped after %d rows written: %w", sum.Landed(), context.Cause(ctx))
	}
	return sum, err
}

// batchReader reads and parses records into batches of at most rows rows and
// maxBatchBytes. Its sum counts the refused rows, its err what stopped the
// reading early, eof that it read to the end; they are read after the
// batches channel is closed.
type batchReader struct {
	parser rowParser
	rows   int
	keep   int
	sum    Summary
	err    error
	eof    bool
}

func (b *batchReader) read(ctx context.Context, next func() (int, record, error), out chan<- []*input) {
	defer close(out)
	batch, size := make([]*input, 0, b.rows), 0
	for ctx.Err() == nil {
		num, rec, err := next()
		var se *sheet.Error
		switch {
		case errors.Is(err, io.EOF):
			b.eof = len(batch) == 0 || send(ctx, out, batch)
			return
		case errors.As(err, &se) && se.Row > 0:
			b.sum.refuse(se, b.keep)
			continue
		case err != nil:
			// The file broke off: the rows before it land all the same.
			b.err = err
			if len(batch) > 0 {
				send(ctx, out, batch)
			}
			return
		}
		in, refused := b.parser.parse(num, rec)
		if refused != nil {
			b.sum.refuse(refused, b.keep)
			continue
		}
		batch, size = append(batch, in), size+in.size()
		if len(batch) >= b.rows || size >= maxBatchBytes {
			if !send(ctx, out, batch) {
				return
			}
			batch, size = make([]*input, 0, b.rows), 0
		}
	}
}

// send hands a batch to the writer; false when ctx ended first.
func send(ctx context.Context, out chan<- []*input, batch []*input) bool {
	select {
	case out <- batch:
		return true
	case <-ctx.Done():
		return false
	}
}

// writeBatch merges a batch onto the stored tickets and saves it in one
// transaction, retrying when a concurrent import created one of its numbers.
// A number on several rows is saved once: each later row applies over the
// earlier ones and counts as updated or unchanged against them.
func (s *Service) writeBatch(ctx context.Context, batch []*input, actor string, sum *Summary, keep int) error {
	numbers := make([]string, len(batch))
	for i, in := range batch {
		numbers[i] = in.number
	}
	for attempt := 1; ; attempt++ {
		var res, repeats models.SaveResult
		var refused []*sheet.Error
		var saved []models.TicketWrite
		err := s.Store.Tx(ctx, func(tx *models.Store) error {
			old, err := tx.TicketsByNumber(ctx, numbers)
			if err != nil {
				return err
			}
			now := tx.Now()
			writes := make([]models.TicketWrite, 0, len(batch))
			at := map[string]int{} // number → its write
			for _, in := range batch {
				i, repeat := at[in.number]
				cur := old[in.number]
				if repeat {
					cur = writes[i].New
				}
				t, rerr := s.apply(cur, in, now)
				switch {
				case rerr != nil:
					refused = append(refused, rerr)
				case !repeat:
					at[in.number] = len(writes)
					writes = append(writes, models.TicketWrite{Old: cur, New: t})
				case models.SameTicket(cur, t):
					repeats.Unchanged++
				default:
					repeats.Updated++
					writes[i].New = t
				}
			}
			if res, err = tx.SaveTickets(ctx, writes, actor); err != nil {
				return err
			}
			saved = writes
			return s.tellWithdrawn(ctx, tx, writes)
		})
		if models.ErrorCode(err) == models.ECONFLICT && attempt < conflictRetries {
			continue
		}
		if err != nil {
			return fmt.Errorf("tickets: save rows %d–%d: %w", batch[0].num, batch[len(batch)-1].num, err)
		}
		sum.Created += res.Created
		sum.Updated += res.Updated + repeats.Updated
		sum.Unchanged += res.Unchanged + repeats.Unchanged
		for _, e := range refused {
			sum.refuse(e, keep)
		}
		sum.flag(saved)
		return nil
	}
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
