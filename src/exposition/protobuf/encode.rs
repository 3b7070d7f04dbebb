//! A minimal protobuf encoder for building test bodies.

/// A message under construction: its encoded fields.
#[derive(Debug, Clone, Default)]
pub(crate) struct Msg(Vec<u8>);

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl Msg {
    pub(crate) fn new() -> Msg {
        Msg::default()
    }

    fn tag(mut self, number: u32, wire: u64) -> Msg {
        put_varint(&mut self.0, (u64::from(number) << 3) | wire);
        self
    }

    pub(crate) fn varint(self, number: u32, v: u64) -> Msg {
        let mut m = self.tag(number, 0);
        put_varint(&mut m.0, v);
        m
    }

    /// A zigzag-encoded signed varint (`sint32`, `sint64`).
    pub(crate) fn sint(self, number: u32, v: i64) -> Msg {
        self.varint(number, ((v << 1) ^ (v >> 63)) as u64)
    }

    pub(crate) fn double(self, number: u32, v: f64) -> Msg {
        let mut m = self.tag(number, 1);
        m.0.extend_from_slice(&v.to_bits().to_le_bytes());
        m
    }

    pub(crate) fn bytes(self, number: u32, b: &[u8]) -> Msg {
        let mut m = self.tag(number, 2);
        put_varint(&mut m.0, b.len() as u64);
        m.0.extend_from_slice(b);
        m
    }

    pub(crate) fn string(self, number: u32, s: &str) -> Msg {
        self.bytes(number, s.as_bytes())
    }

    pub(crate) fn message(self, number: u32, m: Msg) -> Msg {
        self.bytes(number, &m.0)
    }
}

/// Appends `m` with its uvarint length prefix.
pub(crate) fn delimited(out: &mut Vec<u8>, m: &Msg) {
    put_varint(out, m.0.len() as u64);
    out.extend_from_slice(&m.0);
}
