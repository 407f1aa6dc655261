package bot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"yanzhen/bot"
	"yanzhen/bot/wecomtest"
	"yanzhen/models"
)

// enqueueNumbered enqueues to each destination its messages from..to, in order.
func enqueueNumbered(k *kit, dests []destination, from, to int) {
	k.t.Helper()
	var msgs []models.OutboxMessage
	for i := from; i <= to; i++ {
		for _, d := range dests {
			o := d.out
			o.Body = fmt.Sprintf("%s #%02d", d.name, i)
			msgs = append(msgs, o)
		}
	}
	k.enqueue(msgs...)
}

// drain is how long after WeCom's last injected fault the last message was
// delivered, and how much of that WeCom's limit of 20 messages a minute per
// robot required by itself.
type drain struct {
	lastFault, lastDelivery time.Time
	pacing                  time.Duration
	lastApp                 time.Time // the last app message, which no robot's pacing holds
}

func (d drain) took() time.Duration { return d.lastDelivery.Sub(d.lastFault) }

// measureDrain reads the drain from the fake's record.
func measureDrain(t *testing.T, w *wecomtest.Server) drain {
	t.Helper()
	var d drain
	var robot []time.Time
	for _, r := range w.Requests() {
		if r.Injected && r.Time.After(d.lastFault) {
			d.lastFault = r.Time
		}
		if r.Delivered() {
			d.lastDelivery = maxTime(d.lastDelivery, r.Time)
			if r.Route == wecomtest.RouteWebhook && r.Key == robotKey {
				robot = append(robot, r.Time)
			}
			if r.Route == wecomtest.RouteMessage {
				d.lastApp = maxTime(d.lastApp, r.Time)
			}
		}
	}
	var before []time.Time
	after := 0
	for _, at := range robot {
		if at.After(d.lastFault) {
			after++
		} else {
			before = append(before, at)
		}
	}
	d.pacing = pacing(before, after, d.lastFault, 20, time.Minute+2*time.Second)
	return d
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// pacing returns how long sending count messages from from takes at best
// when at most n may go in any span of window, given the sends before.
func pacing(before []time.Time, count int, from time.Time, n int, window time.Duration) time.Duration {
	sends := slices.Clone(before)
	at := from
	for range count {
		for {
			var in []time.Time
			for _, s := range sends {
				if s.After(at.Add(-window)) {
					in = append(in, s)
				}
			}
			if len(in) < n {
				break
			}
			at = in[len(in)-n].Add(window)
		}
		sends = append(sends, at)
	}
	return at.Sub(from)
}

// The fault test: WeCom answers 45009 three times and then -1
// twice; later -1 eight times in a row, across a restart (a second bot on
// the same database). After WeCom's last failure every destination's
// backlog must be delivered within 60 s, plus what the robot's 20 a minute
// require, in order, nothing twice; the restarted bot keeps the backoff of
// the first.
func TestOutboxDrainsWithinAMinuteOfWeComsLastFailure(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		first := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true, worker: "first"})
		dests := destinations(first)
		routes := []wecomtest.Route{wecomtest.RouteWebhook, wecomtest.RouteMessage}

		// Rate limits, then busy.
		enqueueNumbered(first, dests, 1, 12)
		for _, route := range routes {
			first.wecom.FailNext(route, wecomtest.Errcode(45009), 3)
			first.wecom.FailNext(route, wecomtest.Errcode(-1), 2)
		}
		if err := first.bot.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		one := measureDrain(t, first.wecom)
		t.Logf("3×45009 + 2×-1: last fault %s, last delivery %s: drained %v after the last fault (the robot's pacing alone needs %v; app messages %v)",
			one.lastFault.Format("15:04:05"), one.lastDelivery.Format("15:04:05"), one.took(), one.pacing, one.lastApp.Sub(one.lastFault))
		if one.took() > time.Minute+one.pacing {
			t.Errorf("drained %v after the last fault, over 60 s + %v of pacing", one.took(), one.pacing)
		}

		// Busy eight times in a row; the first bot stops partway (it is
		// killed) and a second one on the same database takes over.
		enqueueNumbered(first, dests, 13, 24)
		for _, route := range routes {
			first.wecom.FailNext(route, wecomtest.Errcode(-1), 8)
		}
		// Flush sleeps through the waits that end within its deadline (wall
		// time, 2 s): the first bot lives through one or two rounds of
		// failures, and is killed between passes or in the middle of one.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := first.bot.Flush(ctx)
		cancel()
		var pending *bot.PendingError
		if !errors.As(err, &pending) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the first bot's flush: %v", err)
		}
		restart := clock.Now()
		var held []models.OutboxBackoff
		if err := s.DB(context.Background()).Find(&held).Error; err != nil {
			t.Fatal(err)
		}
		if len(held) == 0 {
			t.Fatal("no destination backoff stored at the restart")
		}
		second := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true, worker: "second", wecom: first.wecom})
		for range 10 {
			if err = second.bot.Flush(context.Background()); !errors.As(err, &pending) {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		faultsAfter := 0
		for _, r := range first.wecom.Requests() {
			if r.Injected && r.Time.After(restart) {
				faultsAfter++
			}
		}
		if faultsAfter == 0 {
			t.Fatal("every fault came before the restart")
		}
		two := measureDrain(t, first.wecom)
		t.Logf("8×-1 across a restart (%d of the faults after it): last fault %s, last delivery %s: drained %v after the last fault (the robot's pacing alone needs %v; app messages %v)",
			faultsAfter, two.lastFault.Format("15:04:05"), two.lastDelivery.Format("15:04:05"), two.took(), two.pacing, two.lastApp.Sub(two.lastFault))
		if two.took() > time.Minute+two.pacing {
			t.Errorf("drained %v after the last fault, over 60 s + %v of pacing", two.took(), two.pacing)
		}
		assertDelivered(t, first.wecom, dests, 24)

		// The second bot waited out the backoffs the first one left.
		names := map[string]string{} // destination → name
		for _, row := range second.outbox() {
			name, _, _ := strings.Cut(row.Body, " #")
			names[row.Destination] = name
		}
		for _, b := range held {
			for _, r := range first.wecom.Requests() {
				if name, _, _ := strings.Cut(r.Content, " #"); name == names[b.Destination] && r.Time.After(restart) && r.Time.Before(b.Until) {
					t.Errorf("%s was called at %s, before its backoff of %d failures ended at %s",
						name, r.Time.Format("15:04:05"), b.Failures, b.Until.Format("15:04:05"))
				}
			}
		}
	})
}
