//! Tries to connect to a TCP address and to resolve a host name. If the sandbox
//! held, both fail and the card returns `internal` with the errors; if either
//! worked, it says so (and the host test fails).

use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;
use std::net::ToSocketAddrs;

#[derive(Deserialize, JsonSchema)]
struct In {
    /// For example `127.0.0.1:8080`.
    addr: String,
    /// For example `localhost:8080`.
    name: String,
}

struct OpenSocket;

impl Card for OpenSocket {
    const NAME: &'static str = "test.open-socket";
    const DESCRIPTION: &'static str = "Tries to open a socket.";
    type Input = In;
    type Output = String;

    fn run(_ctx: &Context, input: In) -> Result<String, CardError> {
        let connect = match std::net::TcpStream::connect(&input.addr) {
            Ok(_) => return Ok(format!("connected to {}", input.addr)),
            Err(e) => e.to_string(),
        };
        let lookup = match input.name.to_socket_addrs() {
            Ok(addrs) => {
                let addrs: Vec<_> = addrs.collect();
                if !addrs.is_empty() {
                    return Ok(format!("resolved {} to {addrs:?}", input.name));
                }
                "no addresses".to_string()
            }
            Err(e) => e.to_string(),
        };
        Err(CardError::internal(format!("connect: {connect}; lookup: {lookup}")))
    }
}

lanyard_sdk::export_card!(OpenSocket);
