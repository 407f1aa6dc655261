package report

import (
	"yanzhen/models"
	"yanzhen/msg"
)

// keyTrack renders the daily 重点件 track: every ticket a leader or the 12345
// office put on it (重点件 工单号), while open, with its unit, where it stands
// against its deadline and its latest step; a ticket closed on the day shows
// once more, as closed. False when the track is empty.
func (d *Daily) keyTrack() (msg.Section, bool) {
	if len(d.Key) == 0 {
		return msg.Section{}, false
	}
	lines := []msg.Line{msg.L(msg.Strong("重点件跟踪"), msg.Text("（"+itoa(len(d.Key))+"件，跟踪至办结）"))}
	for i, k := range d.Key {
		t := &k.Ticket
		spans := []msg.Span{msg.Text(itoa(i+1) + ". 工单" + t.Number)}
		if t.Department != nil {
			spans = append(spans, msg.Text(" "+t.Department.Name))
		}
		if t.Title != "" {
			spans = append(spans, msg.Text(" "+listTitle(t.Title)))
		}
		spans = append(spans, msg.Text("｜"+t.StatusText()))
		switch {
		case !t.Open():
			spans = append(spans, msg.Good("，今日起不再跟踪"))
		case t.Overdue(d.Now) && d.cal != nil:
			spans = append(spans, msg.Text("，"), msg.Bad(Lateness(d.cal, *t.Deadline, d.Now)))
		case t.Deadline != nil && d.cal != nil:
			spans = append(spans, msg.Text("，"+Lateness(d.cal, *t.Deadline, d.Now)))
		}
		if e := k.Last; e != nil && e.Change != models.EventCreated {
			spans = append(spans, msg.Muted("｜最近："+whenCN(e.At)+" "+eventWord(e)))
		}
		lines = append(lines, msg.L(spans...))
	}
	return msg.S(lines...), true
}

// eventWord names a ticket's event on the track: 签收, 反馈：已到现场, 延期.
func eventWord(e *models.TicketEvent) string {
	words := map[models.TicketChange]string{
		models.EventSigned: "签收", models.EventFeedback: "反馈", models.EventClaimed: "报办结",
		models.EventStatus: "状态变更", models.EventExtension: "延期", models.EventDeadline: "期限变更",
		models.EventReopen: "重办", models.EventSatisfaction: "回访", models.EventDepartment: "改派",
	}
	w, ok := words[e.Change]
	if !ok {
		w = "办理记录"
	}
	if (e.Change == models.EventFeedback || e.Change == models.EventClaimed) && e.Reason != "" {
		w += "：" + listTitle(e.Reason)
	}
	return w
}
