package transport

import (
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// settlement is the handler's verdict on one delivery.
type settlement struct {
	tag     uint64
	ack     bool
	requeue bool // for a nack
}

// settler writes a consumer's acks and nacks to the broker on its own
// goroutine, in delivery order, so the next delivery is read and handed
// out while the last one's frame is written: the settle write was a
// quarter of the receiver's CPU, on the path of every message.
//
// Acks that queue up while a frame is written go out as one multiple ack
// for the highest tag. That is safe because every delivery of the channel
// passes through the settler in tag order: when an ack for tag N is sent,
// every tag below N is already settled.
type settler struct {
	ch    *amqp091.Channel
	queue chan settlement
	done  chan struct{}
	err   error // the first failed write; read after done
}

func newSettler(ch *amqp091.Channel, depth int) *settler {
	s := &settler{ch: ch, queue: make(chan settlement, depth), done: make(chan struct{})}
	go s.run()
	return s
}

// settle queues one verdict; it blocks while depth verdicts wait.
func (s *settler) settle(st settlement) { s.queue <- st }

// close sends what is queued and returns the first write error, if any.
func (s *settler) close() error {
	close(s.queue)
	<-s.done
	return s.err
}

func (s *settler) run() {
	defer close(s.done)
	var pending uint64 // the highest ack not sent yet; 0: none (tags start at 1)
	flush := func() {
		if pending != 0 {
			s.record(s.ch.Ack(pending, true))
			pending = 0
		}
	}
	for {
		var st settlement
		var ok bool
		select {
		case st, ok = <-s.queue:
		default: // nothing more waiting: send the acks gathered so far
			flush()
			st, ok = <-s.queue
		}
		if !ok {
			flush()
			return
		}
		if st.ack {
			pending = st.tag
			continue
		}
		flush()
		s.record(s.ch.Nack(st.tag, false, st.requeue))
	}
}

func (s *settler) record(err error) {
	if err != nil && s.err == nil {
		s.err = err
	}
}
