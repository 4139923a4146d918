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
        erased_at -> Nullable<Timestamptz>,
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

diesel::table! {
    organizations (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        acronym -> Nullable<Text>,
        kind -> Text,
        description -> Nullable<Text>,
        alternate_names -> Jsonb,
        founded_year -> Nullable<Int4>,
        residence_country -> Nullable<Text>,
        city -> Nullable<Text>,
        origin_countries -> Array<Text>,
        operating_countries -> Array<Text>,
        capabilities -> Jsonb,
        languages -> Array<Text>,
        website -> Nullable<Text>,
        public_email -> Nullable<Text>,
        public_phone -> Nullable<Text>,
        identifiers -> Jsonb,
        members_count -> Nullable<Int4>,
        volunteers_count -> Nullable<Int4>,
        challenges -> Array<Text>,
        interests -> Array<Text>,
        status -> Text,
        verification_status -> Text,
        verified_at -> Nullable<Timestamptz>,
        verified_until -> Nullable<Timestamptz>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        merged_into -> Nullable<Uuid>,
        merged_was_public -> Bool,
    }
}

diesel::table! {
    organization_members (organization_id, user_id) {
        organization_id -> Uuid,
        user_id -> Uuid,
        role -> Text,
        added_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    organization_contacts (id) {
        id -> Uuid,
        organization_id -> Uuid,
        name -> Text,
        role -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        languages -> Array<Text>,
        consent_basis -> Text,
        consent_obtained_at -> Nullable<Timestamptz>,
        purpose -> Text,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        consent_reviewed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    verification_requests (id) {
        id -> Uuid,
        organization_id -> Uuid,
        requested_by -> Nullable<Uuid>,
        requested_at -> Timestamptz,
        note -> Nullable<Text>,
        decision -> Nullable<Text>,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        decision_note -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        as_moderator -> Bool,
        action -> Text,
        organization_id -> Nullable<Uuid>,
        subject_id -> Nullable<Uuid>,
        details -> Jsonb,
    }
}

diesel::table! {
    contact_requests (id) {
        id -> Uuid,
        seq -> Int8,
        from_organization_id -> Uuid,
        to_organization_id -> Uuid,
        created_by -> Nullable<Uuid>,
        subject -> Text,
        message -> Text,
        sector -> Nullable<Text>,
        crisis_id -> Nullable<Uuid>,
        status -> Text,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        need_id -> Nullable<Uuid>,
        offer_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    contact_request_messages (id) {
        id -> Uuid,
        seq -> Int8,
        contact_request_id -> Uuid,
        author_organization_id -> Uuid,
        author_user_id -> Nullable<Uuid>,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    notifications (id) {
        id -> Uuid,
        seq -> Int8,
        organization_id -> Uuid,
        kind -> Text,
        contact_request_id -> Nullable<Uuid>,
        message_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        emailed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notification_reads (user_id, notification_id) {
        notification_id -> Uuid,
        user_id -> Uuid,
        read_at -> Timestamptz,
    }
}

diesel::table! {
    contact_releases (id) {
        id -> Int8,
        organization_id -> Uuid,
        viewer_user_id -> Nullable<Uuid>,
        viewer_organization_id -> Nullable<Uuid>,
        contact_request_id -> Nullable<Uuid>,
        as_moderator -> Bool,
        contact_ids -> Array<Uuid>,
        released_at -> Timestamptz,
    }
}

diesel::table! {
    crises (id) {
        id -> Uuid,
        seq -> Int8,
        slug -> Text,
        name -> Text,
        glide -> Nullable<Text>,
        hazard -> Text,
        countries -> Array<Text>,
        started_on -> Date,
        ended_on -> Nullable<Date>,
        status -> Text,
        description -> Nullable<Text>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    engagements (id) {
        id -> Uuid,
        seq -> Int8,
        crisis_id -> Uuid,
        organization_id -> Uuid,
        sectors -> Array<Text>,
        support_types -> Array<Text>,
        country -> Text,
        admin1 -> Nullable<Text>,
        description -> Nullable<Text>,
        status -> Text,
        started_on -> Nullable<Date>,
        ended_on -> Nullable<Date>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    postings (id) {
        id -> Uuid,
        seq -> Int8,
        side -> Text,
        organization_id -> Uuid,
        crisis_id -> Nullable<Uuid>,
        country -> Text,
        admin1 -> Nullable<Text>,
        sectors -> Array<Text>,
        support_types -> Array<Text>,
        languages -> Array<Text>,
        title -> Text,
        description -> Text,
        quantity -> Nullable<Text>,
        status -> Text,
        valid_until -> Nullable<Date>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(organization_members -> organizations (organization_id));
diesel::joinable!(organization_members -> users (user_id));
diesel::joinable!(organization_contacts -> organizations (organization_id));
diesel::joinable!(verification_requests -> organizations (organization_id));
diesel::joinable!(engagements -> organizations (organization_id));
diesel::joinable!(engagements -> crises (crisis_id));
diesel::joinable!(postings -> organizations (organization_id));
diesel::joinable!(contact_request_messages -> contact_requests (contact_request_id));
diesel::joinable!(notification_reads -> notifications (notification_id));
diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    organization_members,
    organization_contacts,
    verification_requests,
    audit_log,
    users,
    refresh_families,
    refresh_tokens,
    login_failures,
    contact_requests,
    contact_request_messages,
    notifications,
    notification_reads,
    contact_releases,
    crises,
    engagements,
    postings,
);
