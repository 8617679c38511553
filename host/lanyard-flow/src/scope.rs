//! What expressions see while a flow runs.
//!
//! A run's scope is a chain of [`Frame`]s: the flow's own frame holds one slot
//! per step id (the compiler numbered them), and each `for_each` iteration gets
//! a child frame with its loop variable, its own slots and its own `vars`. The
//! [`Ctx`] object hands minijinja the names on demand, so nothing is copied per
//! evaluation: looking up `user` is a hash lookup and a vector index.
//!
//! Frames are shared with `Arc` so concurrent loop iterations can read their
//! parent while each writes only its own frame. Knows nothing of cards or
//! history.
//!
//! A context is made for one evaluation of one step, at its path: the per-run
//! functions (`now()`, `uuid()`, ...) it hands out read the run's clock and
//! draw from that run and path, so evaluating the step again (a resumed run)
//! gives the same values.

use crate::expr::{CONTEXT_FUNCTIONS, from_json};
use crate::functions::{Draws, RunContext, context_function};
use crate::interp::{LinkRequest, NoSignalLinks, SignalLinks};
use crate::model::Slots;
use lanyard_core::Clock;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// What is the same for every expression of one flow invocation.
pub(crate) struct RunShared {
    pub(crate) slots: Arc<Slots>,
    pub(crate) event: Value,
    /// `flow.name`, `flow.run_id`, `flow.dry_run`; built only when read.
    pub(crate) flow_name: Arc<str>,
    pub(crate) run_id: Arc<str>,
    pub(crate) dry_run: bool,
    pub(crate) inputs: Option<Value>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) links: Arc<dyn SignalLinks>,
}

impl fmt::Debug for RunShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunShared").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct LoopState {
    pub(crate) var: Arc<str>,
    pub(crate) item: Value,
    pub(crate) index0: usize,
    /// `None` in a loop over pages: how many items there are is not known.
    pub(crate) length: Option<usize>,
}

/// One level of scope.
#[derive(Debug, Clone, Default)]
pub(crate) struct Frame {
    pub(crate) parent: Option<Arc<Frame>>,
    /// Step outputs by slot; a child frame grows it on first write.
    pub(crate) slots: Vec<Option<Value>>,
    pub(crate) vars: Vec<(Arc<str>, Value)>,
    pub(crate) looping: Option<LoopState>,
    pub(crate) error: Option<Value>,
}

impl Frame {
    pub(crate) fn root(slots: usize) -> Frame {
        Frame {
            slots: vec![None; slots],
            ..Frame::default()
        }
    }

    pub(crate) fn child(parent: &Arc<Frame>, looping: LoopState) -> Frame {
        Frame {
            parent: Some(parent.clone()),
            looping: Some(looping),
            ..Frame::default()
        }
    }

    fn chain(&self) -> impl Iterator<Item = &Frame> {
        std::iter::successors(Some(self), |f| f.parent.as_deref())
    }

    pub(crate) fn slot(&self, slot: usize) -> Option<&Value> {
        self.chain()
            .find_map(|f| f.slots.get(slot).and_then(Option::as_ref))
    }

    pub(crate) fn var(&self, name: &str) -> Option<&Value> {
        self.chain().find_map(|f| {
            f.vars
                .iter()
                .rev()
                .find(|(k, _)| &**k == name)
                .map(|(_, v)| v)
        })
    }

    fn error(&self) -> Option<&Value> {
        self.chain().find_map(|f| f.error.as_ref())
    }

    fn loop_state(&self) -> Option<&LoopState> {
        self.chain().find_map(|f| f.looping.as_ref())
    }

    fn loop_var(&self, name: &str) -> Option<&Value> {
        self.chain()
            .filter_map(|f| f.looping.as_ref())
            .find(|l| &*l.var == name)
            .map(|l| &l.item)
    }
}

/// Write to a frame that may be shared (loop iterations hold their parent);
/// clones only if someone still holds it.
pub(crate) fn set_slot(frame: &mut Arc<Frame>, slot: usize, value: Value) {
    let f = Arc::make_mut(frame);
    if f.slots.len() <= slot {
        f.slots.resize(slot + 1, None);
    }
    f.slots[slot] = Some(value);
}

pub(crate) fn set_var(frame: &mut Arc<Frame>, name: Arc<str>, value: Value) {
    let f = Arc::make_mut(frame);
    match f.vars.iter_mut().find(|(k, _)| *k == name) {
        Some(entry) => entry.1 = value,
        None => f.vars.push((name, value)),
    }
}

/// Set `error` for a handler; returns what it was, to restore afterwards.
pub(crate) fn set_error(frame: &mut Arc<Frame>, error: Option<Value>) -> Option<Value> {
    std::mem::replace(&mut Arc::make_mut(frame).error, error)
}

/// The root object expressions are evaluated against.
pub(crate) struct Ctx {
    pub(crate) frame: Arc<Frame>,
    pub(crate) run: Arc<RunShared>,
    draws: Draws,
    /// The `seq` of the step evaluating (what a signal link is made after).
    seq: u64,
}

impl fmt::Debug for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<scope>")
    }
}

/// The context of one evaluation of the step at `path`, whose journal
/// record is number `seq`.
pub(crate) fn context(frame: &Arc<Frame>, run: &Arc<RunShared>, path: &str, seq: u64) -> Value {
    Value::from_object(Ctx {
        frame: frame.clone(),
        run: run.clone(),
        draws: Draws::new(run.run_id.clone(), path),
        seq,
    })
}

impl RunContext for Ctx {
    fn clock(&self) -> &dyn Clock {
        &*self.run.clock
    }

    fn draws(&self) -> &Draws {
        &self.draws
    }

    fn signal_link(&self, signal: &str, choice: Option<&str>) -> Result<String, String> {
        self.run.links.link(LinkRequest {
            run_id: &self.run.run_id,
            signal,
            choice,
            after_seq: self.seq,
        })
    }
}

impl Object for Ctx {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        match key {
            "event" => return Some(self.run.event.clone()),
            "flow" => {
                let mut m = BTreeMap::new();
                m.insert("name", Value::from(&*self.run.flow_name));
                m.insert("run_id", Value::from(&*self.run.run_id));
                m.insert("dry_run", Value::from(self.run.dry_run));
                return Some(Value::from(m));
            }
            "inputs" => return self.run.inputs.clone(),
            "vars" => return Some(Value::from_object(Vars(self.frame.clone()))),
            "error" => return self.frame.error().cloned(),
            "loop" => {
                let l = self.frame.loop_state()?;
                let mut m = BTreeMap::new();
                m.insert("index", Value::from(l.index0 + 1));
                m.insert("index0", Value::from(l.index0));
                m.insert("first", Value::from(l.index0 == 0));
                if let Some(length) = l.length {
                    m.insert("last", Value::from(l.index0 + 1 == length));
                    m.insert("length", Value::from(length));
                }
                return Some(Value::from(m));
            }
            name if CONTEXT_FUNCTIONS.contains(&name) => {
                return context_function(name, self.clone());
            }
            _ => {}
        }
        if let Some(v) = self.frame.loop_var(key) {
            return Some(v.clone());
        }
        let slot = *self.run.slots.by_name.get(key)?;
        self.frame.slot(slot).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}

/// `vars`: the variables visible from a frame (inner assignments shadow outer).
struct Vars(Arc<Frame>);

impl fmt::Debug for Vars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<vars>")
    }
}

impl Object for Vars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.var(key.as_str()?).cloned()
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        self.0.var(key).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = Vec::new();
        for f in self.0.chain() {
            for (k, _) in &f.vars {
                let k = Value::from(&**k);
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        Enumerator::Values(keys)
    }
}

/// The context a trigger filter sees: `event`, and the per-run functions on
/// the machine's clock, drawing from the event's `uuid` (so `random() < 0.1`
/// samples a tenth of the events, the same tenth each time one is seen).
pub(crate) fn filter_context(event: &serde_json::Value) -> Value {
    let run = Arc::new(RunShared {
        slots: Arc::new(Slots::default()),
        event: from_json(event),
        flow_name: "".into(),
        run_id: "".into(),
        dry_run: false,
        inputs: None,
        clock: Arc::new(lanyard_core::SystemClock),
        links: Arc::new(NoSignalLinks),
    });
    let uuid = event
        .get("uuid")
        .and_then(|u| u.as_str())
        .unwrap_or_default();
    context(
        &Arc::new(Frame::default()),
        &run,
        &format!("trigger.filter/{uuid}"),
        0,
    )
}
