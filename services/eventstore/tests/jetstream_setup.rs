//! Start-up checks of the JetStream log against real servers.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use casetrack_eventstore::log::jetstream::{JetStreamConfig, JetStreamLog};
use casetrack_eventstore::testkit::{TestStream, nats_url};

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nats_server_binary() -> String {
    ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
        .map(str::to_owned)
        .unwrap_or_else(|| "nats-server".into())
}

#[tokio::test]
async fn a_server_without_jetstream_gets_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(nats_server_binary())
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("this test starts its own nats-server without JetStream (scripts/test installs nats-server)");
    let _server = Process(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nats-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let error =
        JetStreamLog::connect(JetStreamConfig::new(format!("nats://127.0.0.1:{port}"))).await.err().expect("refused");
    let message = format!("{error:#}");
    assert!(message.contains("does not offer JetStream") && message.contains("-js"), "{message}");
}

#[tokio::test]
async fn an_existing_stream_with_retention_limits_is_refused() {
    let stream = TestStream::new();
    let client = async_nats::connect(nats_url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    js.create_stream(async_nats::jetstream::stream::Config {
        name: stream.config.stream.clone(),
        subjects: vec![format!("{}.>", stream.config.subject_prefix)],
        max_age: Duration::from_secs(3600),
        allow_direct: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let error = JetStreamLog::connect(stream.config.clone()).await.err().expect("refused");
    let message = format!("{error:#}");
    casetrack_eventstore::testkit::delete_test_stream(&js, &stream.config.stream).await;
    assert!(message.contains("retention limits"), "{message}");
}

#[tokio::test]
async fn the_stream_is_created_with_file_storage_and_no_limits() {
    let stream = TestStream::new();
    let log = JetStreamLog::connect(stream.config.clone()).await.unwrap();
    let js = async_nats::jetstream::new(async_nats::connect(nats_url()).await.unwrap());
    let mut created = js.get_stream(&stream.config.stream).await.unwrap();
    let info = created.info().await.unwrap();
    let c = &info.config;
    assert_eq!(c.storage, async_nats::jetstream::stream::StorageType::File);
    assert!(c.max_age.is_zero() && c.max_messages <= 0 && c.max_bytes <= 0);
    assert!(c.deny_delete && c.deny_purge && c.allow_direct);
    drop(log);
    casetrack_eventstore::testkit::delete_test_stream(&js, &stream.config.stream).await;
}
