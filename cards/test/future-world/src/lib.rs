//! A card built against a contract this host does not implement,
//! `lanyard:card@0.2.0` (a minimal stand-in for a future version). The
//! registry refuses it and names both versions.

wit_bindgen::generate!({
    inline: "
        package lanyard:card@0.2.0;

        interface log {
            write: func(message: string);
        }

        world card {
            import log;
            export describe: func() -> string;
            export run: func(input: string) -> string;
        }
    ",
    world: "card",
});

struct Future;

impl Guest for Future {
    fn describe() -> String {
        lanyard::card::log::write("describing");
        "test.future".to_string()
    }

    fn run(input: String) -> String {
        lanyard::card::log::write("running");
        input
    }
}

export!(Future);
