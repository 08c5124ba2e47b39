//! When a flow is attributed to an application: at once for a
//! [`Strength::Strong`] rule, and for a weak one only once the
//! [`Corroboration`] it names holds. The caller keeps one [`FlowEvidence`]
//! per flow (both directions) and feeds it every payload in order; the
//! attribution never changes once made.

use crate::dissect::{dissect_claimed, Claim};
use crate::hf;
use crate::identify::{App, Corroboration, Identification, Rule, Strength, Transport};
use crate::tree::{Field, MessageKind, Tree, Value};

/// Why a flow is attributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Basis {
    /// A strong rule matched one of its payloads.
    StrongRule,
    /// A weak rule matched its first payload, and its second (different)
    /// payload matched a rule of the same application.
    SecondPayload,
    /// A weak rule matched the first payload of the TCP connection, where
    /// the rule's text puts it.
    FirstOfConnection,
}

impl Basis {
    pub fn description(self) -> &'static str {
        match self {
            Basis::StrongRule => "a strong rule matched",
            Basis::SecondPayload => "a weak rule matched the first payload, and the second payload matched too",
            Basis::FirstOfConnection => "a weak rule matched the first payload of the connection",
        }
    }
}

/// What a flow is, as far as its payloads so far tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attribution {
    /// Nothing attributes the flow.
    Unknown,
    /// A weak rule matched the first payload; the second decides.
    Pending(Rule),
    /// The flow is `app`'s, attributed by `rule`.
    App { app: App, rule: Rule, basis: Basis },
    /// The user said the flow is PPLive's (Wireshark's Decode As,
    /// `peerscope dissect --decode-as`), whatever its payloads match.
    DecodeAs,
}

impl Attribution {
    /// The application, when attributed.
    pub fn app(&self) -> Option<App> {
        match self {
            Attribution::App { app, .. } => Some(*app),
            Attribution::DecodeAs => Some(App::PpLive),
            _ => None,
        }
    }
}

/// The evidence one flow has shown. Plain data (`Copy`, no heap), so the
/// Wireshark plugin can keep it in epan's per-conversation memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowEvidence {
    payloads: u32,
    /// The weak rule that matched the first payload, and that payload's fingerprint.
    first_weak: Option<(Rule, u64)>,
    attributed: Option<(App, Rule, Basis)>,
}

/// FNV-1a: tells a retransmission (the same bytes) from a new payload.
pub fn fingerprint(p: &[u8]) -> u64 {
    p.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl FlowEvidence {
    /// Feeds the flow's next payload and what [`crate::identify()`] said of
    /// it; returns the flow's attribution after it.
    pub fn observe(&mut self, id: &Identification, payload: &[u8]) -> Attribution {
        self.observe_fingerprint(id, fingerprint(payload))
    }

    /// [`Self::observe`] with the payload's [`fingerprint`] instead of its bytes.
    pub fn observe_fingerprint(&mut self, id: &Identification, fp: u64) -> Attribution {
        let n = self.payloads;
        self.payloads = self.payloads.saturating_add(1);
        if self.attributed.is_some() {
            return self.attribution();
        }
        let Some(rule) = id.rule else { return self.attribution() };
        let basis = match (rule.strength(), rule.corroboration()) {
            (Strength::Strong, _) => Some((rule, Basis::StrongRule)),
            (Strength::Weak, Corroboration::FirstOfConnection) => (n == 0).then_some((rule, Basis::FirstOfConnection)),
            (Strength::Weak, _) => match (n, self.first_weak) {
                (0, _) => {
                    self.first_weak = Some((rule, fp));
                    None
                }
                (1, Some((first, first_fp))) if first.app() == rule.app() && first_fp != fp => {
                    Some((first, Basis::SecondPayload))
                }
                _ => None,
            },
        };
        if let Some((rule, basis)) = basis {
            self.attributed = Some((rule.app(), rule, basis));
        }
        self.attribution()
    }

    /// The attribution so far.
    pub fn attribution(&self) -> Attribution {
        match (self.attributed, self.first_weak) {
            (Some((app, rule, basis)), _) => Attribution::App { app, rule, basis },
            (None, Some((rule, _))) if self.payloads == 1 => Attribution::Pending(rule),
            _ => Attribution::Unknown,
        }
    }

    /// Payloads fed so far.
    pub fn payloads(&self) -> u32 {
        self.payloads
    }
}

/// The `peerscope.id` subtree: the application, the payload's own rule and
/// evidence, and why its flow is attributed.
pub fn identification_field(p: &[u8], id: &Identification, attribution: &Attribution) -> Option<Field> {
    let (app, flow_rule, basis) = match *attribution {
        Attribution::App { app, rule, basis } => (app, Some(rule), basis.description()),
        Attribution::DecodeAs => (App::PpLive, None, "the user decodes this port as PPLive (Decode As)"),
        _ => return None,
    };
    let mut c = vec![Field::new(&hf::ID_APP, 0, 0, Value::Str(app.name().into()))];
    if let Some(rule) = id.rule {
        c.push(Field::new(&hf::ID_RULE, id.evidence.offset, id.evidence.len, Value::Str(rule.name().into())));
        c.push(Field::new(
            &hf::ID_RULE_TEXT,
            id.evidence.offset,
            id.evidence.len,
            Value::Str(rule.description().into()),
        ));
        if let Some(bytes) = p.get(id.evidence.offset..id.evidence.offset + id.evidence.len) {
            c.push(Field::new(&hf::ID_EVIDENCE, id.evidence.offset, id.evidence.len, Value::Bytes(bytes.to_vec())));
        }
        let strength = match rule.strength() {
            Strength::Strong => "strong",
            Strength::Weak => "weak",
        };
        c.push(Field::new(&hf::ID_STRENGTH, id.evidence.offset, id.evidence.len, Value::Str(strength.into())));
    }
    let basis = match flow_rule {
        Some(r) if id.rule != Some(r) => format!("the flow is attributed by rule {} ({basis})", r.name()),
        _ => basis.to_string(),
    };
    c.push(Field::new(&hf::ID_BASIS, 0, 0, Value::Str(basis)));
    Some(Field::subtree(&hf::ID, 0, p.len(), c))
}

/// What the plugin and `peerscope dissect` show of a payload of an
/// attributed flow, its identification first: a PPLive/PPTV payload decoded
/// by [`dissect_claimed`], a SOPCast or PPStream one identified only (their
/// layouts are not public). `None` when the flow is not attributed.
pub fn attributed_tree(
    p: &[u8],
    transport: Transport,
    full_len: usize,
    id: &Identification,
    attribution: &Attribution,
) -> Option<Tree> {
    let field = identification_field(p, id, attribution)?;
    let flow = match *attribution {
        Attribution::App { rule, .. } => Some(rule),
        _ => None,
    };
    let mut tree = match attribution.app() {
        Some(App::PpLive) => dissect_claimed(p, &Claim { transport, full_len, own: id.rule, flow }),
        _ => Tree { generation: None, message: MessageKind::Identified, fields: Vec::new(), notes: Vec::new() },
    };
    tree.fields.insert(0, field);
    Some(tree)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identify::{identify, Transport};

    fn feed(f: &mut FlowEvidence, proto: Transport, sp: u16, dp: u16, p: &[u8]) -> Attribution {
        f.observe(&identify(proto, sp, dp, p), p)
    }

    fn pps_peer(seed: u8) -> Vec<u8> {
        let mut d = vec![seed; 37];
        d[..5].copy_from_slice(&[0xda, 0x80, 0x9e, 0xbb, 0xbb]);
        d
    }

    #[test]
    fn test_strong_rule_attributes_at_once() {
        let mut f = FlowEvidence::default();
        let a = feed(&mut f, Transport::Udp, 1, 2, &[0xe9, 0x03, 0x41, 0x01, 0]);
        assert!(matches!(a, Attribution::App { app: App::PpLive, basis: Basis::StrongRule, .. }), "{a:?}");
        // Sticky: later payloads that match nothing do not undo it.
        assert_eq!(feed(&mut f, Transport::Udp, 1, 2, b"anything"), a);
    }

    #[test]
    fn test_weak_rule_needs_a_second_different_payload() {
        let mut f = FlowEvidence::default();
        assert_eq!(
            feed(&mut f, Transport::Udp, 22793, 22636, &pps_peer(1)),
            Attribution::Pending(Rule::PpstreamUdpPeer)
        );
        let a = feed(&mut f, Transport::Udp, 22636, 22793, &pps_peer(2));
        assert!(matches!(a, Attribution::App { app: App::PpStream, basis: Basis::SecondPayload, .. }), "{a:?}");
    }

    #[test]
    fn test_weak_rule_not_corroborated() {
        // A retransmission is the same bytes.
        let mut f = FlowEvidence::default();
        feed(&mut f, Transport::Udp, 1, 2, &pps_peer(1));
        assert_eq!(feed(&mut f, Transport::Udp, 1, 2, &pps_peer(1)), Attribution::Unknown);
        // A second payload that matches nothing.
        let mut f = FlowEvidence::default();
        feed(&mut f, Transport::Udp, 1, 2, &pps_peer(1));
        assert_eq!(feed(&mut f, Transport::Udp, 2, 1, b"not ppstream at all, twenty"), Attribution::Unknown);
        // A match after a first payload that matched nothing (DNS-like traffic).
        let mut f = FlowEvidence::default();
        feed(&mut f, Transport::Udp, 1, 2, b"not ppstream at all, twenty");
        feed(&mut f, Transport::Udp, 1, 2, &pps_peer(1));
        assert_eq!(feed(&mut f, Transport::Udp, 1, 2, &pps_peer(2)), Attribution::Unknown);
        // Only one payload ever.
        let mut f = FlowEvidence::default();
        feed(&mut f, Transport::Udp, 1, 2, &pps_peer(1));
        assert_eq!(f.attribution(), Attribution::Pending(Rule::PpstreamUdpPeer));
    }

    #[test]
    fn test_first_of_connection() {
        let mut p = vec![0u8; 54];
        p[1] = 0x36;
        let mut f = FlowEvidence::default();
        let a = feed(&mut f, Transport::Tcp, 1, 2, &p);
        assert!(matches!(a, Attribution::App { app: App::SopCast, basis: Basis::FirstOfConnection, .. }), "{a:?}");
        let mut f = FlowEvidence::default();
        feed(&mut f, Transport::Tcp, 1, 2, b"hello");
        assert_eq!(feed(&mut f, Transport::Tcp, 1, 2, &p), Attribution::Unknown);
    }
}
