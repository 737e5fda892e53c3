//! A bound on the requests in flight to one ERP.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use mlc_domain::mapping::{ErpCreditNote, ErpCustomer, ErpItemState, ErpOrder};
use mlc_domain::model::Email;
use tokio::sync::Semaphore;

use crate::{ConnectorError, Erp, PreparedRequest};

/// An [`Erp`] that lets at most `limit` requests reach `inner` at once;
/// further callers wait their turn. The ERP's connection budget is spent on
/// requests only, so callers can do their other work (the event store) while
/// others' requests are in flight.
pub struct ConcurrencyLimited {
    inner: Arc<dyn Erp>,
    slots: Semaphore,
}

impl ConcurrencyLimited {
    /// `inner` with at most `limit` (at least 1) requests in flight.
    pub fn new(inner: Arc<dyn Erp>, limit: usize) -> ConcurrencyLimited {
        ConcurrencyLimited {
            inner,
            slots: Semaphore::new(limit.max(1)),
        }
    }

    async fn slot(&self) -> tokio::sync::SemaphorePermit<'_> {
        // The semaphore is never closed.
        self.slots
            .acquire()
            .await
            .expect("the semaphore stays open")
    }
}

#[async_trait]
impl Erp for ConcurrencyLimited {
    fn system(&self) -> &'static str {
        self.inner.system()
    }

    async fn ping(&self) -> Result<(), ConnectorError> {
        let _slot = self.slot().await;
        self.inner.ping().await
    }

    async fn find_customer_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<String>, ConnectorError> {
        let _slot = self.slot().await;
        self.inner.find_customer_by_email(email).await
    }

    async fn customer_exists(&self, number: &str) -> Result<bool, ConnectorError> {
        let _slot = self.slot().await;
        self.inner.customer_exists(number).await
    }

    async fn create_customer(&self, customer: &ErpCustomer) -> Result<String, ConnectorError> {
        let _slot = self.slot().await;
        self.inner.create_customer(customer).await
    }

    async fn update_customer(&self, customer: &ErpCustomer) -> Result<(), ConnectorError> {
        let _slot = self.slot().await;
        self.inner.update_customer(customer).await
    }

    async fn item_exists(&self, item_number: &str) -> Result<bool, ConnectorError> {
        let _slot = self.slot().await;
        self.inner.item_exists(item_number).await
    }

    async fn find_order(&self, reference: &str) -> Result<Option<String>, ConnectorError> {
        let _slot = self.slot().await;
        self.inner.find_order(reference).await
    }

    fn prepare_order(&self, order: &ErpOrder) -> Result<PreparedRequest, ConnectorError> {
        self.inner.prepare_order(order)
    }

    async fn post_order(&self, order: &ErpOrder) -> Result<String, ConnectorError> {
        let _slot = self.slot().await;
        self.inner.post_order(order).await
    }

    async fn find_credit_note(&self, reference: &str) -> Result<Option<String>, ConnectorError> {
        let _slot = self.slot().await;
        self.inner.find_credit_note(reference).await
    }

    async fn post_credit_note(&self, note: &ErpCreditNote) -> Result<String, ConnectorError> {
        let _slot = self.slot().await;
        self.inner.post_credit_note(note).await
    }

    async fn items_changed_since(
        &self,
        since: Option<NaiveDate>,
        price_list: Option<&str>,
        locations: &[String],
    ) -> Result<Vec<ErpItemState>, ConnectorError> {
        let _slot = self.slot().await;
        self.inner
            .items_changed_since(since, price_list, locations)
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// Counts the calls in flight at once.
    #[derive(Default)]
    struct Slow {
        now: AtomicUsize,
        most: AtomicUsize,
    }

    #[async_trait]
    impl Erp for Slow {
        fn system(&self) -> &'static str {
            "slow"
        }
        async fn ping(&self) -> Result<(), ConnectorError> {
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        }
        async fn find_customer_by_email(
            &self,
            _: &Email,
        ) -> Result<Option<String>, ConnectorError> {
            unimplemented!()
        }
        async fn customer_exists(&self, _: &str) -> Result<bool, ConnectorError> {
            unimplemented!()
        }
        async fn create_customer(&self, _: &ErpCustomer) -> Result<String, ConnectorError> {
            unimplemented!()
        }
        async fn update_customer(&self, _: &ErpCustomer) -> Result<(), ConnectorError> {
            unimplemented!()
        }
        async fn item_exists(&self, _: &str) -> Result<bool, ConnectorError> {
            unimplemented!()
        }
        async fn find_order(&self, _: &str) -> Result<Option<String>, ConnectorError> {
            unimplemented!()
        }
        fn prepare_order(&self, _: &ErpOrder) -> Result<PreparedRequest, ConnectorError> {
            unimplemented!()
        }
        async fn post_order(&self, _: &ErpOrder) -> Result<String, ConnectorError> {
            unimplemented!()
        }
        async fn find_credit_note(&self, _: &str) -> Result<Option<String>, ConnectorError> {
            unimplemented!()
        }
        async fn post_credit_note(&self, _: &ErpCreditNote) -> Result<String, ConnectorError> {
            unimplemented!()
        }
        async fn items_changed_since(
            &self,
            _: Option<NaiveDate>,
            _: Option<&str>,
            _: &[String],
        ) -> Result<Vec<ErpItemState>, ConnectorError> {
            unimplemented!()
        }
    }

    #[tokio::test]
    async fn no_more_than_the_limit_in_flight() {
        let slow = Arc::new(Slow::default());
        let limited = Arc::new(ConcurrencyLimited::new(slow.clone(), 3));
        let calls: Vec<_> = (0..12)
            .map(|_| {
                let limited = limited.clone();
                tokio::spawn(async move { limited.ping().await })
            })
            .collect();
        for call in calls {
            call.await.unwrap().unwrap();
        }
        assert_eq!(slow.most.load(Ordering::SeqCst), 3);
    }
}
