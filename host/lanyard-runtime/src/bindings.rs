//! The one `bindgen!` of the `card` world. Every other module uses these types;
//! `convert` is the only place that maps them to and from `lanyard-core` types.

wasmtime::component::bindgen!({
    world: "card",
    path: "../../wit",
    imports: { default: async | trappable },
    exports: { default: async },
});
