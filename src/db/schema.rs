// Diesel table definitions. Kept by hand in step with migrations/; the migration round-trip
// test and the reference-data tests read every column, so a mismatch fails the suite.

diesel::table! {
    countries (code) {
        code -> Text,
        alpha2 -> Text,
        numeric -> Text,
        name -> Text,
        official_name -> Nullable<Text>,
        common_name -> Nullable<Text>,
        region -> Nullable<Text>,
        sub_region -> Nullable<Text>,
        intermediate_region -> Nullable<Text>,
    }
}

diesel::table! {
    languages (code) {
        code -> Text,
        alpha3 -> Text,
        name -> Text,
        alternate_names -> Array<Text>,
        is_macrolanguage -> Bool,
    }
}

diesel::table! {
    sectors (code) {
        code -> Text,
        parent_code -> Nullable<Text>,
        name -> Text,
        hdx_code -> Nullable<Text>,
        position -> Int4,
    }
}

diesel::table! {
    support_types (code) {
        code -> Text,
        name -> Text,
        description -> Text,
        position -> Int4,
    }
}

diesel::table! {
    organization_kinds (code) {
        code -> Text,
        name -> Text,
        iati_code -> Text,
        hdx_code -> Nullable<Text>,
        position -> Int4,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    countries,
    languages,
    sectors,
    support_types,
    organization_kinds,
);

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        display_name -> Text,
        is_moderator -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_families (id) {
        id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        family_id -> Uuid,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Int8,
        scope -> Text,
        key_hash -> Bytea,
        failed_at -> Timestamptz,
    }
}

diesel::joinable!(refresh_families -> users (user_id));
diesel::joinable!(refresh_tokens -> refresh_families (family_id));
diesel::allow_tables_to_appear_in_same_query!(users, refresh_families, refresh_tokens);
