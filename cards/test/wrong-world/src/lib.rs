//! A well-formed WASI 0.2 component of another world: it exports `render`,
//! not `describe` and `run`. The registry refuses it before compiling it,
//! naming what it exports and the world a card must implement.

wit_bindgen::generate!({
    inline: "
        package acme:widget@1.0.0;

        world widget {
            export render: func(input: string) -> string;
        }
    ",
    world: "widget",
});

struct Widget;

impl Guest for Widget {
    fn render(input: String) -> String {
        format!("<p>{input}</p>")
    }
}

export!(Widget);
