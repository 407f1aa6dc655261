package report

import (
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// Publicity is the weekly 整改公示: the items of the rectification list
// verified and now published and closed (销号), and the dispatches verified
// (核查通过) in the week.
type Publicity struct {
	District   string
	Week       models.Period
	Items      []models.Rectification
	Dispatches []models.Dispatch
	// Names finds a member's name by userid, for who verified.
	Names func(userid string) string
}

// PublicityOf returns the 公示 of the week containing day.
func (b *Builder) PublicityOf(day time.Time) *Publicity {
	return &Publicity{District: b.cfg.District.Name, Week: models.WeekOf(day, b.loc)}
}

// Empty reports whether there is nothing to publish.
func (p *Publicity) Empty() bool { return len(p.Items) == 0 && len(p.Dispatches) == 0 }

// Message returns the 公示 as one group message keyed by the run's slot (a
// run publishes what no run before it did), or nil when it is empty.
func (p *Publicity) Message(slot string) *msg.Message {
	if p.Empty() {
		return nil
	}
	title := p.District + "整改公示"
	head := []msg.Line{msg.H(msg.Text(title)), msg.L(msg.Strong(p.Week.Label())),
		text("本周销号整改事项 " + itoa(len(p.Items)) + " 件、核查办结调度 " + itoa(len(p.Dispatches)) + " 件，经非办理人核查通过，予以公示。")}
	sections := []msg.Section{msg.S(head...)}
	if len(p.Items) > 0 {
		lines := []msg.Line{msg.L(msg.Strong("整改事项"))}
		for _, it := range p.Items {
			line := "· " + it.Code() + " " + it.Department.Name + " " + string(it.Class) + "：" + listTitle(it.Problem)
			if it.VerifiedBy != "" {
				line += "（" + p.name(it.VerifiedBy) + "核查）"
			}
			lines = append(lines, text(line))
		}
		sections = append(sections, msg.S(lines...))
	}
	if len(p.Dispatches) > 0 {
		lines := []msg.Line{msg.L(msg.Strong("调度"))}
		for _, d := range p.Dispatches {
			var units []string
			for _, t := range d.Targets {
				units = append(units, t.Label())
			}
			lines = append(lines, text("· "+d.Code()+" "+strings.Join(units, "、")+"："+listTitle(d.Instruction)+"（"+p.name(d.VerifiedBy)+"核查）"))
		}
		sections = append(sections, msg.S(lines...))
	}
	m := toGroup("", title, "publicity/"+slot, sections...)
	return &m
}

// name is a member's name, or the userid when unknown.
func (p *Publicity) name(userid string) string {
	if p.Names != nil {
		if n := p.Names(userid); n != "" {
			return n
		}
	}
	return userid
}
