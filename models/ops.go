package models

import "time"

// Route is the way an Inbound arrived.
type Route string

// Routes.
const (
	RouteApp   Route = "app"   // self-built app: one-to-one messages and card clicks
	RouteRobot Route = "robot" // group robot: @robot in a group
	RouteAIBot Route = "aibot" // 智能机器人: @bot in a group or a single chat, by callback or long connection
)

// MsgTypeTap is the MsgType of a tap on a card's button: Text is the tap
// (msg.Tap), TaskID the card's task_id, and ReplyURL what updates the card.
const MsgTypeTap = "tap"

// ChatType says where an Inbound was said: in a group, or to the bot alone.
type ChatType string

// Chat types.
const (
	ChatGroup  ChatType = "group"
	ChatSingle ChatType = "single"
)

// Inbound is one message received from WeCom, normalised across the three
// routes, stored once per (Route, MsgID) before WeCom is answered. HandledAt is
// set when the handler has finished with it; rows without it are handled again
// at start, so a crash between answering WeCom and handling loses nothing.
type Inbound struct {
	ID         uint     `gorm:"primaryKey"`
	Route      Route    `gorm:"size:16;not null;uniqueIndex:idx_inbound_route_msg,priority:1"`
	MsgID      string   `gorm:"column:msg_id;size:128;not null;uniqueIndex:idx_inbound_route_msg,priority:2"`
	ChatID     string   `gorm:"size:128"`
	ChatType   ChatType `gorm:"size:16"`
	FromUserID string   `gorm:"column:from_userid;size:64;index"`
	FromName   string   `gorm:"size:64"`
	MsgType    string   `gorm:"size:32"`
	// Text is the message with the leading @robot mention removed.
	Text string `gorm:"type:text"`
	// Media refers to the images and files the message carried, as WeCom gave
	// them ("image:" or "file:" and a URL or a media id); nothing is fetched.
	Media StringList
	// ReplyURL is where a reply goes: the robot's WebhookUrl or the AI bot's
	// response_url. It may carry a webhook key: never log it.
	ReplyURL string `gorm:"size:1024"`
	// Attachment refers to the file the message carries (a file sent to the
	// app or the AI bot), in a form only package bot reads (bot fetches it
	// when a handler asks); "" when none. It may hold a download key: never
	// log it.
	Attachment string `gorm:"size:2048"`
	// TaskID is the task_id of the card a tap (MsgTypeTap) came from.
	TaskID     string     `gorm:"column:task_id;size:128;not null;default:''"`
	ReceivedAt time.Time  `gorm:"not null"`
	HandledAt  *time.Time `gorm:"index"`
	Attempts   int        `gorm:"not null"`
	// ClaimedUntil is the lease of the attempt under way or, after a failed
	// attempt, the time before which the message is not tried again.
	ClaimedUntil *time.Time
	LastError    string `gorm:"size:512"`
}

// TableName keeps the table name of DESIGN §4.
func (Inbound) TableName() string { return "inbound_messages" }

// InGroup reports whether the message was said in a group chat.
func (in *Inbound) InGroup() bool { return in.ChatType == ChatGroup }

// Outbox statuses.
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// OutboxMessage is one WeCom message waiting to be sent, or sent, or given up
// on, as package bot rendered it: Channel, To, ChatID, Kind, Body and
// Mentions are bot's to set and read. Rows to one destination (Channel, To,
// ChatID) are sent in ID order.
type OutboxMessage struct {
	ID          uint   `gorm:"primaryKey"`
	Channel     string `gorm:"size:16;not null;index:idx_outbox_dest_sent,priority:1"`
	To          string `gorm:"column:to_target;size:1024;not null"`
	ChatID      string `gorm:"size:128"`
	Destination string `gorm:"size:64;not null;index:idx_outbox_dest_sent,priority:2"` // a hash of (Channel, To, ChatID) for ordering and rate limits
	// GroupPost marks a post to a work group (not a reply, not an app
	// message) and Group names the group (the code of its configuration, ""
	// for the installation's default group): bot sets them, and a group's
	// daily budget counts such rows (GroupPosts).
	GroupPost bool   `gorm:"not null;default:false;index:idx_outbox_group_posts,priority:1"`
	Group     string `gorm:"column:group_code;size:64;not null;default:'';index:idx_outbox_group_posts,priority:2"`

	// Priority orders rows that wait for the same rate budget: higher first.
	Priority       int    `gorm:"not null;default:0"`
	Kind           string `gorm:"size:16;not null"`
	Title          string `gorm:"size:255"`
	Body           string `gorm:"type:mediumtext;not null"`
	URL            string `gorm:"size:1024"`
	Mentions       StringList
	MentionMobiles StringList
	DedupeKey      *string   `gorm:"size:191;uniqueIndex"`
	Status         string    `gorm:"size:16;not null;index:idx_outbox_due,priority:1"`
	NextAttemptAt  time.Time `gorm:"not null;index:idx_outbox_due,priority:2"`
	Attempts       int       `gorm:"not null"`
	ClaimedBy      string    `gorm:"size:64"`
	ClaimedUntil   *time.Time
	LastError      string     `gorm:"size:512"`
	CreatedAt      time.Time  `gorm:"not null"`
	SentAt         *time.Time `gorm:"index:idx_outbox_dest_sent,priority:3;index:idx_outbox_sent_at"` // rate budgets read the last hour's sends
	// Media is the hash of the image or file an image or file row sends (see Media).
	Media string `gorm:"size:64;not null;default:''"`
}

// JobStatus is where one slot of a scheduled job (a JobRun) stands.
type JobStatus string

// JobRun statuses.
const (
	JobRunning JobStatus = "running"
	JobDone    JobStatus = "done"
	JobFailed  JobStatus = "failed"
	JobSkipped JobStatus = "skipped"
)

// JobRun claims one slot of a scheduled job for one work group (e.g.
// daily-report of group hh at 2026-11-20T17:30; Group "" for a job that runs
// once for the installation, or for the group of a single-group one): the
// unique (Job, Group, Slot) key makes a slot run once across replicas.
type JobRun struct {
	ID         uint      `gorm:"primaryKey"`
	Job        string    `gorm:"size:32;not null;uniqueIndex:idx_job_runs_job_group_slot,priority:1"`
	Group      string    `gorm:"column:group_code;size:64;not null;default:'';uniqueIndex:idx_job_runs_job_group_slot,priority:2"`
	Slot       string    `gorm:"size:32;not null;uniqueIndex:idx_job_runs_job_group_slot,priority:3"`
	Status     JobStatus `gorm:"size:16;not null"`
	Late       bool      `gorm:"not null"`
	Owner      string    `gorm:"size:128"`
	StartedAt  time.Time
	FinishedAt *time.Time
	LeaseUntil *time.Time
	Attempts   int    `gorm:"not null"`
	Error      string `gorm:"size:1024"`
	Summary    string `gorm:"size:512"`
}

// AlertSubject says what an Alert is about: a ticket or a dispatch.
type AlertSubject string

// Alert subjects. A ticket sent to two units (双派单) is two subjects on
// the ladder: the responsible unit's part (SubjectTicket) and the grid
// street's (SubjectGrid), each alerted and acknowledged on its own.
const (
	SubjectTicket   AlertSubject = "ticket"
	SubjectDispatch AlertSubject = "dispatch"
	SubjectGrid     AlertSubject = "ticket_grid"
)

// AlertLevel names a level of the escalation ladder, as configured
// (config.LevelWarn … config.LevelBlacklist).
type AlertLevel string

// Alert is one level of the escalation ladder fired for one subject (a ticket or
// a dispatch): unique per (SubjectKind, SubjectID, Level), so each level fires once.
// LastSentAt and Count track the repeats while the subject stays open;
// AckedAt (签收) stops the repeats of this level.
type Alert struct {
	ID           uint         `gorm:"primaryKey"`
	SubjectKind  AlertSubject `gorm:"size:16;not null;uniqueIndex:idx_alerts_subject_level,priority:1"`
	SubjectID    uint         `gorm:"not null;uniqueIndex:idx_alerts_subject_level,priority:2"`
	Level        AlertLevel   `gorm:"size:16;not null;uniqueIndex:idx_alerts_subject_level,priority:3"`
	DepartmentID *uint        `gorm:"index"`
	FirstSentAt  time.Time
	LastSentAt   time.Time
	Count        int `gorm:"not null"`
	AckedAt      *time.Time
}

// HolidayOverride is an admin's correction of the working-day calendar: a date
// made a day off or a working day (e.g. next year's calendar, published each November).
type HolidayOverride struct {
	ID        uint   `gorm:"primaryKey"`
	Date      string `gorm:"size:10;not null;uniqueIndex"`
	Work      bool   `gorm:"not null"`
	Name      string `gorm:"size:64"`
	CreatedAt time.Time
}

// KV is a small shared value with an optional expiry, e.g. the WeCom access
// token shared by replicas so that they do not each fetch one.
type KV struct {
	Key       string `gorm:"primaryKey;size:128"`
	Value     string `gorm:"type:text"`
	ExpiresAt *time.Time
	UpdatedAt time.Time
}

// TableName names the table kv.
func (KV) TableName() string { return "kv" }

// allModels is every table, in migration order.
var allModels = []any{
	&Department{}, &Member{},
	&Ticket{}, &TicketEvent{}, &TicketRequest{},
	&DailyReport{}, &ReportVersion{}, &Dispatch{}, &DispatchTarget{}, &DispatchEvent{},
	&Inbound{}, &OutboxMessage{}, &OutboxBackoff{}, &JobRun{}, &Alert{}, &HolidayOverride{}, &KV{}, &Media{}, &MediaChunk{},
	&Announcement{}, &TicketImport{}, &Group{}, &GroupUnit{},
	&Rectification{}, &RectifyEvent{}, &AccountabilityRecord{}, &KeyTicket{}, &Card{},
}
