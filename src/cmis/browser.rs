//! CMIS Browser binding (JSON over HTTP, CMIS 1.1 chapter 5).
//! STUB: to be implemented.

use async_trait::async_trait;

use super::error::{CmisError, Result};
use super::http::HttpClient;
use super::model::*;
use super::Binding;

pub struct BrowserBinding {
    #[allow(dead_code)]
    client: HttpClient,
    repository_id: String,
}

impl BrowserBinding {
    /// GET on the service URL: the repositories it serves.
    pub async fn discover(_client: &HttpClient, url: &str) -> Result<Vec<RepositoryInfo>> {
        Err(CmisError::Protocol {
            message: format!("{url}: browser binding not implemented"),
        })
    }

    /// A binding for one repository of the service at `url`.
    pub async fn open(client: HttpClient, _url: &str, repository_id: &str) -> Result<Self> {
        Ok(BrowserBinding {
            client,
            repository_id: repository_id.to_string(),
        })
    }
}

#[async_trait]
impl Binding for BrowserBinding {
    fn kind(&self) -> BindingKind {
        BindingKind::Browser
    }
    fn repository_id(&self) -> &str {
        &self.repository_id
    }
    async fn repository_info(&self) -> Result<RepositoryInfo> {
        todo!()
    }
    async fn type_definition(&self, _type_id: &str) -> Result<TypeDefinition> {
        todo!()
    }
    async fn children(&self, _folder_id: &str, _options: &ChildrenOptions) -> Result<ObjectList> {
        todo!()
    }
    async fn object(&self, _object_id: &str, _options: &ReadOptions) -> Result<CmisObject> {
        todo!()
    }
    async fn object_by_path(&self, _path: &str, _options: &ReadOptions) -> Result<CmisObject> {
        todo!()
    }
    async fn parents(&self, _object_id: &str, _options: &ReadOptions) -> Result<Vec<ObjectParent>> {
        todo!()
    }
    async fn content(&self, _object_id: &str, _range: Option<ByteRange>) -> Result<ContentStream> {
        todo!()
    }
    async fn create_document(
        &self,
        _folder_id: Option<&str>,
        _properties: &Properties,
        _content: Option<ContentUpload>,
        _versioning_state: Option<VersioningState>,
    ) -> Result<CmisObject> {
        todo!()
    }
    async fn create_folder(
        &self,
        _parent_id: &str,
        _properties: &Properties,
    ) -> Result<CmisObject> {
        todo!()
    }
    async fn set_content(
        &self,
        _object_id: &str,
        _content: ContentUpload,
        _overwrite: bool,
        _change_token: Option<&str>,
    ) -> Result<CmisObject> {
        todo!()
    }
    async fn append_content(
        &self,
        _object_id: &str,
        _content: ContentUpload,
        _is_last_chunk: bool,
        _change_token: Option<&str>,
    ) -> Result<CmisObject> {
        todo!()
    }
    async fn delete_content(
        &self,
        _object_id: &str,
        _change_token: Option<&str>,
    ) -> Result<CmisObject> {
        todo!()
    }
    async fn update_properties(
        &self,
        _object_id: &str,
        _properties: &Properties,
        _change_token: Option<&str>,
    ) -> Result<CmisObject> {
        todo!()
    }
    async fn move_object(
        &self,
        _object_id: &str,
        _target_folder_id: &str,
        _source_folder_id: &str,
    ) -> Result<CmisObject> {
        todo!()
    }
    async fn delete(&self, _object_id: &str, _all_versions: bool) -> Result<()> {
        todo!()
    }
    async fn delete_tree(
        &self,
        _folder_id: &str,
        _all_versions: bool,
        _unfile: UnfileObjects,
        _continue_on_failure: bool,
    ) -> Result<Vec<String>> {
        todo!()
    }
    async fn add_object_to_folder(
        &self,
        _object_id: &str,
        _folder_id: &str,
        _all_versions: bool,
    ) -> Result<()> {
        todo!()
    }
    async fn remove_object_from_folder(
        &self,
        _object_id: &str,
        _folder_id: Option<&str>,
    ) -> Result<()> {
        todo!()
    }
    async fn check_out(&self, _object_id: &str) -> Result<CmisObject> {
        todo!()
    }
    async fn cancel_check_out(&self, _pwc_id: &str) -> Result<()> {
        todo!()
    }
    async fn check_in(
        &self,
        _pwc_id: &str,
        _major: bool,
        _properties: Option<&Properties>,
        _content: Option<ContentUpload>,
        _comment: Option<&str>,
    ) -> Result<CmisObject> {
        todo!()
    }
    async fn all_versions(&self, _object_id: &str) -> Result<Vec<CmisObject>> {
        todo!()
    }
    async fn content_changes(
        &self,
        _change_log_token: Option<&str>,
        _include_properties: bool,
        _max_items: Option<u64>,
    ) -> Result<ContentChanges> {
        todo!()
    }
    async fn query(
        &self,
        _statement: &str,
        _search_all_versions: bool,
        _max_items: Option<u64>,
        _skip_count: u64,
    ) -> Result<ObjectList> {
        todo!()
    }
}
