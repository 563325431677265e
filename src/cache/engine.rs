//! The policy a cache runs, held by its type when it is one of the built-in policies a
//! cache is most often built on, so the hot path compiles as one piece.
//!
//! A cache asks its policy three things on every request: where a key is
//! ([`Policy::slot_of`]), to take a hit ([`Policy::hit_at`]) and to serve a request
//! ([`Policy::serve`], which calls back into the cache for each object it drops or places).
//! Through a `Box<dyn Policy>` each is a dynamic call the compiler cannot see through, and
//! the call-backs are dynamic too. [`Engine`] keeps LRU, FIFO, CLOCK, SIEVE, S3-FIFO and
//! W-TinyLFU by value, so these calls are static and inline into the cache's own code
//! ([`Policy::serve_in`]); any other policy, a user's own, or one under the TTL layer,
//! runs as before through [`Engine::Any`]. Decisions are the same either way: the policy
//! object is the simulator's, only the way it is called differs.

use std::any::Any;

use crate::policy::clock::Clock;
use crate::policy::fifo::Fifo;
use crate::policy::lru::Lru;
use crate::policy::s3fifo::S3Fifo;
use crate::policy::sieve::Sieve;
use crate::policy::wtinylfu::WTinyLfu;
use crate::policy::{EvictionSink, Held, Outcome, Policy};
use crate::request::Request;

/// Declares [`Engine`] with one variant per listed policy type, the conversions, and
/// `each!`, which runs an expression on whichever policy the engine holds.
macro_rules! engines {
    ($($variant:ident($policy:ty)),+ $(,)?) => {
        /// A cache's policy: a listed built-in by value, or any policy boxed. The tag is
        /// a byte of its own, so a `match` reads it and jumps (no decoding of a niche).
        #[repr(u8)]
        pub(super) enum Engine {
            $(
                #[doc = concat!("[`", stringify!($policy), "`], called statically.")]
                $variant($policy),
            )+
            /// Any other policy (or a built-in under the TTL layer), called dynamically.
            Any(Box<dyn Policy>),
        }

        impl Engine {
            /// Holds `policy` by its type when it is a listed built-in, else boxed.
            pub fn new(policy: Box<dyn Policy>) -> Engine {
                let type_id = (&*policy as &dyn Any).type_id();
                $(
                    if type_id == std::any::TypeId::of::<$policy>() {
                        let any: Box<dyn Any> = policy;
                        let typed = any.downcast::<$policy>().expect("the type just compared");
                        return Engine::$variant(*typed);
                    }
                )+
                Engine::Any(policy)
            }

            /// The policy, boxed (to put it under a layer).
            pub fn into_dyn(self) -> Box<dyn Policy> {
                match self {
                    $(Engine::$variant(policy) => Box::new(policy),)+
                    Engine::Any(policy) => policy,
                }
            }

            /// The policy, for the calls that are not on the hot path.
            pub fn as_dyn(&self) -> &dyn Policy {
                match self {
                    $(Engine::$variant(policy) => policy,)+
                    Engine::Any(policy) => &**policy,
                }
            }

            /// The policy, mutably, for the calls that are not on the hot path.
            pub fn as_dyn_mut(&mut self) -> &mut dyn Policy {
                match self {
                    $(Engine::$variant(policy) => policy,)+
                    Engine::Any(policy) => &mut **policy,
                }
            }

            /// True when the policy names the slot of every object it admits
            /// ([`crate::policy::EvictionSink::admitted`]), as every built-in held by type
            /// does: a caller need not look up where a new object went.
            #[inline]
            pub fn names_admissions(&self) -> bool {
                !matches!(self, Engine::Any(_))
            }

            /// [`Policy::slot_of`].
            #[inline]
            pub fn slot_of(&self, id: u64) -> Option<u32> {
                match self {
                    $(Engine::$variant(policy) => policy.slot_of(id),)+
                    Engine::Any(policy) => policy.slot_of(id),
                }
            }

            /// [`Policy::hit_at`].
            #[inline(always)]
            pub fn hit_at(&mut self, slot: u32) -> bool {
                match self {
                    $(Engine::$variant(policy) => policy.hit_at(slot),)+
                    Engine::Any(policy) => policy.hit_at(slot),
                }
            }

            /// [`Policy::serve`], statically for a listed built-in ([`Policy::serve_in`]).
            #[inline(always)]
            pub fn serve<S: EvictionSink>(
                &mut self,
                req: &Request,
                write: bool,
                held: Held,
                sink: &mut S,
            ) -> Outcome {
                match self {
                    $(Engine::$variant(policy) => policy.serve_in(req, write, held, sink),)+
                    Engine::Any(policy) => policy.serve(req, write, held, sink),
                }
            }
        }
    };
}

engines! {
    Lru(Lru),
    Fifo(Fifo),
    Clock(Clock),
    Sieve(Sieve),
    S3Fifo(S3Fifo),
    WTinyLfu(WTinyLfu),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::arc::ArcCache;

    #[test]
    fn built_ins_are_held_by_type_and_others_boxed() {
        assert!(matches!(Engine::new(Box::new(Lru::new(4))), Engine::Lru(_)));
        assert!(matches!(
            Engine::new(Box::new(Fifo::new(4))),
            Engine::Fifo(_)
        ));
        assert!(matches!(
            Engine::new(Box::new(S3Fifo::new(4))),
            Engine::S3Fifo(_)
        ));
        let arc = Engine::new(Box::new(ArcCache::new(4)));
        assert!(matches!(arc, Engine::Any(_)));
        assert_eq!(arc.as_dyn().name(), "arc");
        // Boxed again, a built-in keeps its state.
        let mut lru = Engine::new(Box::new(Lru::new(4)));
        lru.serve(
            &Request::get(7, 1),
            false,
            Held::Unknown,
            &mut crate::policy::Unobserved,
        );
        assert!(lru.into_dyn().contains(7));
    }
}
