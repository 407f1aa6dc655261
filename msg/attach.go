package msg

// AttachmentKind says how an attachment shows in the chat.
type AttachmentKind uint8

// Attachment kinds.
const (
	// Image shows in the chat (a PNG or a JPEG).
	Image AttachmentKind = iota + 1
	// File is offered for download under its name.
	File
)

// Attachment is an image or a file sent after a message's text, each as a
// message of its own. Package bot decides how each travels (inline, or
// uploaded first) and refuses one too large for the chat.
type Attachment struct {
	Kind AttachmentKind
	// Name is the file's name as the chat shows it (高新区调度台账.xlsx); an
	// image's name is only for logs and notices.
	Name string
	Data []byte
}

// ImageAttachment is a PNG or JPEG image to show in the chat.
func ImageAttachment(name string, data []byte) Attachment {
	return Attachment{Kind: Image, Name: name, Data: data}
}

// FileAttachment is a file to offer for download.
func FileAttachment(name string, data []byte) Attachment {
	return Attachment{Kind: File, Name: name, Data: data}
}
